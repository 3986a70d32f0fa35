"""The benchmark's baseline: a plain Pipecat Twilio + OpenAI Realtime bot, written the way
Pipecat's telephony examples write it (FastAPIWebsocketTransport + TwilioFrameSerializer +
OpenAIRealtimeLLMService + context aggregators, nothing else), one process.

    python -m bench.baseline_bot --port 8766 --realtime-url ws://127.0.0.1:PORT/v1/realtime
"""

import argparse
import os
import sys

import uvicorn
from fastapi import FastAPI, WebSocket
from loguru import logger
from pipecat.frames.frames import LLMRunFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

INSTRUCTIONS = "You are a friendly phone assistant for Acme. Keep replies short."
GREETING = 'Greet the caller. Say exactly: "Hello, thanks for calling Acme. How can I help?"'


def create_app(realtime_url: str) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        _transport_type, call_data = await parse_telephony_websocket(websocket)
        serializer = TwilioFrameSerializer(
            stream_sid=call_data["stream_id"],
            call_sid=call_data["call_id"],
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
        )
        transport = FastAPIWebsocketTransport(
            websocket=websocket,
            params=FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                add_wav_header=False,
                serializer=serializer,
            ),
        )
        llm = OpenAIRealtimeLLMService(
            api_key=os.environ.get("OPENAI_API_KEY", "sk-bench"),
            base_url=realtime_url,
            settings=OpenAIRealtimeLLMService.Settings(system_instruction=INSTRUCTIONS),
        )
        context = LLMContext(messages=[{"role": "developer", "content": GREETING}])
        aggregators = LLMContextAggregatorPair(context)
        pipeline = Pipeline(
            [
                transport.input(),
                aggregators.user(),
                llm,
                transport.output(),
                aggregators.assistant(),
            ]
        )
        worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
        )

        @transport.event_handler("on_client_connected")
        async def on_connected(_transport, _client):
            await worker.queue_frames([LLMRunFrame()])

        @transport.event_handler("on_client_disconnected")
        async def on_disconnected(_transport, _client):
            await worker.cancel()

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--realtime-url", required=True)
    args = parser.parse_args()
    # Same log level as the bot under test in the benchmark: only warnings.
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    uvicorn.run(create_app(args.realtime_url), host=args.host, port=args.port, log_level="error")


if __name__ == "__main__":
    main()
