"""Which of Pipecat's Realtime handlers serves each server event type: its receive loop,
as a table, so the resilient service can route live events and hold back replayed ones."""

# Pipecat's own handlers, by server event type (its receive loop, as a table).
PIPECAT_HANDLERS = {
    "session.updated": "_handle_evt_session_updated",
    "response.created": "_handle_evt_response_created",
    "response.output_audio.delta": "_handle_evt_audio_delta",
    "conversation.item.added": "_handle_evt_conversation_item_added",
    "conversation.item.done": "_handle_evt_conversation_item_done",
    "conversation.item.input_audio_transcription.delta": (
        "_handle_evt_input_audio_transcription_delta"
    ),
    "conversation.item.input_audio_transcription.completed": (
        "handle_evt_input_audio_transcription_completed"
    ),
    "conversation.item.retrieved": "_handle_conversation_item_retrieved",
    "response.done": "_handle_evt_response_done",
    "input_audio_buffer.speech_started": "_handle_evt_speech_started",
    "input_audio_buffer.speech_stopped": "_handle_evt_speech_stopped",
    "response.output_text.delta": "_handle_evt_text_delta",
    "response.output_audio_transcript.delta": "_handle_evt_audio_transcript_delta",
    "response.function_call_arguments.done": "_handle_evt_function_call_arguments_done",
}
