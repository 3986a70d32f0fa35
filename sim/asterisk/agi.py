"""FastAGI, Asterisk's side: the dialplan running ``AGI(agi://host:port/script,arg1,...)``.

Read in res/res_agi.c (asterisk/asterisk master, Aug 2026; unchanged in substance for years):

* launch_netscript(): ``agi://host[:port][/script]``, port 4573 by default, connect timeout
  MAX_AGI_CONNECT (2 s). It writes ``agi_network: yes`` and, when there is a script part,
  ``agi_network_script: <script>``; then setup_env() writes ``agi_request`` (the whole URL)
  and the channel's environment, one ``agi_<name>: <value>`` line each, the AGI() arguments
  as ``agi_arg_1``…, and a blank line.
* run_agi(): reads one command per line (only the trailing ``\\n`` is removed — a ``\\r``
  stays in the last argument), splits it with parse_args() (double quotes group, backslash
  escapes) and answers each with the handler's line: ``200 result=1`` for SET VARIABLE and
  VERBOSE, ``200 result=0`` for NOOP and ANSWER, ``200 result=1 (value)``/``200 result=0``
  for GET VARIABLE; ``510 Invalid or unknown command``; a ``520`` usage block for a wrong
  argument count; ``511 Command Not Permitted on a dead channel or intercept routine``
  once the channel is hung up, except for the commands allowed there. HANGUP hangs the
  channel up (``200 result=1``, then ``HANGUP`` on its own line: AGISIGHUP defaults to on).
  It waits for the server without a time limit and ends when the server closes, writing a
  last ``HANGUP`` line. AGISTATUS is SUCCESS, or HANGUP if the channel hung up meanwhile.

This client adds the one thing Asterisk lacks: a deadline, so a silent server cannot hang a
test. Commands Asterisk knows but this sim does not act on answer ``200 result=0`` and are
listed in ``AgiResult.unmodelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

AGI_PORT = 4573
MAX_AGI_CONNECT_S = 2.0
STATE_UP = 6  # AST_STATE_UP, CHANNEL STATUS's answer on a live channel

# Every command in res_agi.c's table → whether it may run on a dead channel.
_COMMANDS: dict[tuple[str, ...], bool] = {
    tuple(words.split()): dead
    for words, dead in {
        "answer": False, "asyncagi break": True, "channel status": False,
        "database del": True, "database deltree": True, "database get": True,
        "database put": True, "exec": True, "get data": False, "get full variable": True,
        "get option": False, "get variable": True, "hangup": False, "noop": True,
        "receive char": False, "receive text": False, "record file": False,
        "say alpha": False, "say digits": False, "say number": False, "say phonetic": False,
        "say date": False, "say time": False, "say datetime": False, "send image": False,
        "send text": False, "set autohangup": False, "set callerid": False,
        "set context": False, "set extension": False, "set music": False,
        "set priority": False, "set variable": True, "stream file": False,
        "control stream file": False, "tdd mode": False, "verbose": True,
        "wait for digit": False, "speech create": False, "speech set": False,
        "speech destroy": True, "speech load grammar": False, "speech unload grammar": True,
        "speech activate grammar": False, "speech deactivate grammar": False,
        "speech recognize": False,
    }.items()
}  # fmt: skip


@dataclass(frozen=True)
class AgiChannel:
    """The channel the dialplan runs AGI() on, as setup_env() reports it."""

    uniqueid: str = "1754400000.1"
    channel: str = "PJSIP/trunk-00000001"
    tech: str = "PJSIP"
    language: str = "en"
    callerid: str | None = None  # None → "unknown", as Asterisk prints an absent number
    calleridname: str | None = None
    dnid: str | None = None
    rdnis: str | None = None
    context: str = "from-trunk"
    extension: str = "s"
    priority: int = 1
    accountcode: str = ""
    version: str = "22.5.2"
    variables: dict[str, str] = field(default_factory=dict)


def parse_url(url: str) -> tuple[str, int, str]:
    """``agi://host[:port][/script]`` → (host, port, script), as launch_netscript() does."""
    if not url.startswith("agi://"):
        raise ValueError(f"not a FastAGI URL: {url!r}")
    hostport, _, script = url[len("agi://") :].partition("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or "]" in port:
        return hostport.strip("[]"), AGI_PORT, script
    return host.strip("[]"), int(port), script


def environment(url: str, args: Sequence[str], ch: AgiChannel, enhanced: bool = False) -> str:
    """What Asterisk writes before reading commands, blank line included."""
    script = parse_url(url)[2]
    lines = ["agi_network: yes"] + ([f"agi_network_script: {script}"] if script else [])
    lines += [
        f"agi_request: {url}",
        f"agi_channel: {ch.channel}",
        f"agi_language: {ch.language}",
        f"agi_type: {ch.tech}",
        f"agi_uniqueid: {ch.uniqueid}",
        f"agi_version: {ch.version}",
        f"agi_callerid: {ch.callerid or 'unknown'}",
        f"agi_calleridname: {ch.calleridname or 'unknown'}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        f"agi_dnid: {ch.dnid or 'unknown'}",
        f"agi_rdnis: {ch.rdnis or 'unknown'}",
        f"agi_context: {ch.context}",
        f"agi_extension: {ch.extension}",
        f"agi_priority: {ch.priority}",
        f"agi_enhanced: {'1.0' if enhanced else '0.0'}",
        f"agi_accountcode: {ch.accountcode}",
        "agi_threadid: 140245413480000",
    ]
    lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, start=1)]
    return "\n".join(lines) + "\n\n"


def parse_args(line: str) -> list[str]:
    """res_agi.c parse_args(): words split on blanks; quotes group (and may start mid-word
    without ending it); a backslash makes the next character literal."""
    argv: list[list[str]] = []
    quoted = escaped = False
    blank = True
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and blank:
                argv.append([])
                blank = False
            continue
        if ch in " \t" and not quoted and not escaped:
            blank = True
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if blank:
            argv.append([])
            blank = False
        argv[-1].append(ch)
        escaped = False
    return ["".join(chars) for chars in argv]


@dataclass
class AgiResult:
    request: str
    connected: bool = False
    outcome: str = ""  # "completed" (server closed) | "timeout" | "connect failed"
    status: str = "FAILURE"  # AGISTATUS
    variables: dict[str, str] = field(default_factory=dict)  # set by SET VARIABLE, in order
    commands: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    verbose: list[str] = field(default_factory=list)
    hangup_requested: bool = False
    unmodelled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data


class _Dialplan:
    """Asterisk's answers to AGI commands on one channel."""

    def __init__(self, channel: AgiChannel, result: AgiResult, dead: bool) -> None:
        self.channel = channel
        self.result = result
        self.dead = dead
        self.vars = dict(channel.variables)

    def answer(self, line: str) -> list[str]:
        argv = parse_args(line)
        words = tuple(w.lower() for w in argv)
        command = next((c for c in _COMMANDS if words[: len(c)] == c), None)
        if command is None:
            return ["510 Invalid or unknown command"]
        if self.dead and not _COMMANDS[command]:
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        name, argc = " ".join(command), len(argv)
        if name == "set variable":
            if argc != 4:
                return _usage(name)
            self.vars[argv[2]] = argv[3]
            self.result.variables[argv[2]] = argv[3]
            return ["200 result=1"]
        if name == "get variable":
            if argc != 3:
                return _usage(name)
            value = self.vars.get(argv[2])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        if name == "verbose":
            if argc < 2:
                return _usage(name)
            self.result.verbose.append(argv[1])
            return ["200 result=1"]
        if name == "hangup":
            if argc > 2:
                return _usage(name)
            if argc == 2 and argv[1] != self.channel.channel:
                return ["200 result=-1"]
            self.result.hangup_requested = True
            self.result.status = "HANGUP"
            self.dead = True  # run_agi notices the hang-up and tells the server at once
            return ["200 result=1", "HANGUP"]
        if name == "channel status":
            return [f"200 result={STATE_UP}"]
        if name in ("answer", "noop", "exec", "set context", "set extension", "set priority"):
            return ["200 result=0"]
        self.result.unmodelled.append(line)
        return ["200 result=0"]


def _usage(name: str) -> list[str]:
    # The usage text comes from the command's XML documentation; its frame is what matters.
    return [
        "520-Invalid command syntax.  Proper usage follows:",
        f"Usage: {name.upper()} ...",
        "520 End of proper usage.",
    ]


async def run_fastagi(
    url: str,
    args: Sequence[str] = (),
    channel: AgiChannel | None = None,
    dead: bool = False,
    timeout_s: float = 5.0,
    connect_timeout_s: float = MAX_AGI_CONNECT_S,
) -> AgiResult:
    """Run ``AGI(url,args...)`` against a FastAGI server; never raises for network trouble
    and never takes longer than ``timeout_s``. ``dead``: the caller already hung up (an
    AGI in the ``h`` extension), so only the dead-channel commands run."""
    channel = channel or AgiChannel()
    result = AgiResult(request=url)
    started = time.monotonic()
    host, port, _ = parse_url(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), connect_timeout_s
        )
    except (OSError, TimeoutError) as exc:
        result.outcome = "connect failed"
        result.errors.append(f"FastAGI connect to {host}:{port} failed: {exc!r}")
        return result
    result.connected = True
    result.status = "SUCCESS"
    dialplan = _Dialplan(channel, result, dead)
    try:
        async with asyncio.timeout(max(0.0, timeout_s - (time.monotonic() - started))):
            writer.write(environment(url, args, channel).encode())
            await writer.drain()
            while line := await reader.readline():
                text = line.decode(errors="replace").removesuffix("\n")
                result.commands.append(text)
                replies = dialplan.answer(text)
                result.replies += replies
                writer.write("".join(r + "\n" for r in replies).encode())
                await writer.drain()
        result.outcome = "completed"
        with contextlib.suppress(OSError):
            writer.write(b"HANGUP\n")  # run_agi's last word to a FastAGI server
    except TimeoutError:
        result.outcome = "timeout"
        result.status = "FAILURE"
        result.errors.append(f"FastAGI server {host}:{port} still open after {timeout_s}s")
    except OSError as exc:
        result.outcome = "completed"
        result.errors.append(f"FastAGI connection error: {exc!r}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        result.duration_s = time.monotonic() - started
    return result
