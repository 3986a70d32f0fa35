"""The dialplan around a simulated call: FastAGI before and after, as a FreePBX setup runs it.

    same => n,AGI(agi://BOT:4573/register,${UUID})   ; caller details to the bot
    same => n,AudioSocket(${UUID},BOT:9092)          ; or Dial(WebSocket/ai_bot/...)
    same => n,AGI(agi://BOT:4573/after,${UUID})
    exten => h,1,AGI(agi://BOT:4573/after,${UUID})   ; when the caller hung up

The ``after`` request runs on a live channel when the bot ended the call (AudioSocket()
returns 0 and the dialplan goes on) and in the ``h`` extension, on a dead channel, when the
caller hung up or the session failed.
"""

from __future__ import annotations

from sim.asterisk.agi import AgiChannel, run_fastagi
from sim.asterisk.audiosocket import AudioSocketCall
from sim.asterisk.result import AsteriskCallResult
from sim.asterisk.websocket_channel import AsteriskWebSocketCall


async def call_with_agi(
    call: AsteriskWebSocketCall | AudioSocketCall,
    agi_server: str,
    caller_number: str,
    caller_name: str | None,
    dialed_number: str,
    agi_timeout_s: float = 5.0,
) -> AsteriskCallResult:
    """``register`` over FastAGI, the call, then ``after``; every AGI result is kept."""
    call_id = call.uuid if isinstance(call, AudioSocketCall) else call.channel_id
    channel = AgiChannel(
        uniqueid=call.channel_id,
        callerid=caller_number,
        calleridname=caller_name,
        dnid=dialed_number,
        extension=dialed_number,
    )
    register = await run_fastagi(
        f"agi://{agi_server}/register", [call_id], channel, timeout_s=agi_timeout_s
    )
    result = await call.run()
    after = await run_fastagi(
        f"agi://{agi_server}/after",
        [call_id],
        channel,
        dead=result.closed_by != "server",
        timeout_s=agi_timeout_s,
    )
    result.agi = [register.to_dict(), after.to_dict()]
    result.agi_variables = {**register.variables, **after.variables}
    return result
