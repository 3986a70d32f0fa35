"""The emulator's `response.done` usage has the real API's shape (the `openai` package's
RealtimeResponseUsage) and adds up the way billing does: text + audio = input, cached a part
of input with its own modality split, and later replies re-read the conversation (cached)."""

from openai.types.realtime import RealtimeResponseUsage

from sim.realtime.client import RealtimeClient


async def test_usage_is_shaped_and_summed_like_the_real_api(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    usages = []
    for _ in range(3):
        await client.send("response.create")
        done = await client.wait_for("response.done")
        usages.append(RealtimeResponseUsage.model_validate(done["response"]["usage"], strict=True))
    await client.close()
    for usage in usages:
        inp, out = usage.input_token_details, usage.output_token_details
        assert inp and out and inp.cached_tokens_details
        assert inp.text_tokens + inp.audio_tokens + inp.image_tokens == usage.input_tokens
        cached = inp.cached_tokens_details
        assert cached.text_tokens + cached.audio_tokens + cached.image_tokens == inp.cached_tokens
        assert cached.audio_tokens <= inp.audio_tokens and inp.cached_tokens <= usage.input_tokens
        assert out.text_tokens + out.audio_tokens == usage.output_tokens > 0
        assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    # Each reply re-reads the one before it: input grows and part of it is cached.
    assert usages[2].input_tokens > usages[1].input_tokens > usages[0].input_tokens
    assert usages[0].input_token_details.cached_tokens == 0
    assert usages[2].input_token_details.cached_tokens > 0
