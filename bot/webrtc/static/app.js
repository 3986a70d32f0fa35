// The dev page: one WebRTC call to the bot, in plain JavaScript (no build step, no CDN).
// Signalling is Pipecat's SmallWebRTC shape: POST /api/offer {sdp, type} -> {sdp, type, pc_id},
// then PATCH /api/offer {pc_id, candidates: [{candidate, sdp_mid, sdp_mline_index}]}.
// What the call does (transcript, latency, events, the end) arrives from the server as
// `dev-*` messages on the data channel. Scripts and tests read window.devCall.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STATS_MS = 200;
  // Inbound audio above this mean power (linear, 0..1 squared) counts as the bot speaking.
  const VOICED_POWER = 1e-4;

  const devCall = {
    state: "idle", // idle | connecting | in-call | ended | error
    connection: "new",
    ice: "new",
    realtime: null, // "emulator" | "openai"
    callId: null,
    profile: null,
    transport: null,
    transcript: [], // final lines: {role: "caller" | "bot", text}
    live: { caller: "", bot: "" },
    events: [], // {kind, text, at (s since Call)}
    turns: [], // {turn (0 = greeting), latency_s}
    botSpeaking: false,
    callerSpeaking: false,
    speech: [], // {who, speaking, at, heard (s of bot audio heard so far)}
    endReason: null,
    recordUrl: null,
    messages: 0,
    error: null,
    inbound: { energy: 0, seconds: 0, voicedSeconds: 0, level: 0 },
    outbound: { energy: 0, level: 0 },
  };
  window.devCall = devCall;

  let pc = null;
  let channel = null;
  let stream = null;
  let pcId = null;
  let startedAt = 0;
  let pendingCandidates = [];
  let timers = [];
  let lastInbound = null;

  const since = () => (startedAt ? ((performance.now() - startedAt) / 1000).toFixed(1) : "0.0");

  function addEvent(kind, text) {
    const event = { kind, text, at: Number(since()) };
    devCall.events.push(event);
    const li = document.createElement("li");
    li.innerHTML = '<span class="at"></span><span class="kind"></span> <span class="text"></span>';
    li.querySelector(".at").textContent = `${event.at.toFixed(1)}s`;
    const kindEl = li.querySelector(".kind");
    kindEl.textContent = kind;
    kindEl.classList.add(kind);
    li.querySelector(".text").textContent = text;
    $("events").appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function setState(state) {
    devCall.state = state;
    $("call-state").textContent = state;
    const live = state === "connecting" || state === "in-call";
    $("call").disabled = live;
    $("hangup").disabled = !live;
  }

  function renderTranscript() {
    const box = $("transcript");
    box.textContent = "";
    const lines = devCall.transcript.map((l) => ({ ...l, live: false }));
    for (const role of ["caller", "bot"]) {
      if (devCall.live[role]) lines.push({ role, text: devCall.live[role], live: true });
    }
    for (const line of lines) {
      const p = document.createElement("p");
      p.className = `line ${line.role}${line.live ? " live" : ""}`;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = line.role === "bot" ? "bot" : "you";
      p.appendChild(who);
      p.appendChild(document.createTextNode(line.text));
      box.appendChild(p);
    }
    box.scrollTop = box.scrollHeight;
  }

  function showRealtime(realtime) {
    devCall.realtime = realtime;
    $("realtime").textContent = realtime === "emulator" ? "EMULATOR" : realtime || "–";
    $("emulator-banner").hidden = realtime !== "emulator";
  }

  function showRecordLink() {
    if (!devCall.recordUrl) return;
    const p = $("record-link");
    p.querySelector("a").href = devCall.recordUrl;
    p.hidden = false;
  }

  function onServerMessage(message) {
    devCall.messages += 1;
    switch (message.type) {
      case "dev-call":
        devCall.callId = message.call_id;
        devCall.profile = message.profile;
        devCall.transport = message.transport;
        devCall.recordUrl = message.record_url;
        $("call-id").textContent = message.call_id;
        $("profile").textContent = message.profile;
        showRealtime(message.realtime);
        break;
      case "dev-speaking":
        if (message.who === "bot") devCall.botSpeaking = message.speaking;
        else devCall.callerSpeaking = message.speaking;
        // With how much bot audio had been heard by then (tests compare the two).
        devCall.speech.push({
          who: message.who, speaking: message.speaking, at: Number(since()),
          heard: devCall.inbound.voicedSeconds,
        });
        break;
      case "dev-transcript":
        if (message.final) {
          devCall.transcript.push({ role: message.role, text: message.text });
          devCall.live[message.role] = "";
        } else {
          devCall.live[message.role] += message.text;
        }
        renderTranscript();
        break;
      case "dev-turn": {
        devCall.turns.push({ turn: message.turn, latency_s: message.latency_s });
        const li = document.createElement("li");
        const label = message.turn === 0 ? "greeting" : `turn ${message.turn}`;
        li.textContent = `${label}: ${(message.latency_s * 1000).toFixed(0)} ms`;
        $("turns").appendChild(li);
        break;
      }
      case "dev-event":
        if (message.kind === "barge-in") devCall.live.bot = "";
        addEvent(message.kind, message.text);
        break;
      case "dev-end":
        devCall.endReason = message.reason;
        devCall.recordUrl = message.record_url;
        $("end-reason").textContent = message.reason;
        addEvent("end", message.reason);
        showRecordLink();
        break;
      case "signalling":
        if (message.message && message.message.type === "peerLeft") finish(null);
        break;
      default:
        break;
    }
  }

  async function patchCandidates(candidates) {
    if (!candidates.length) return;
    await fetch("/api/offer", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pc_id: pcId, candidates }),
    });
  }

  async function pollStats() {
    if (!pc) return;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        const energy = s.totalAudioEnergy || 0;
        const seconds = s.totalSamplesDuration || 0;
        if (lastInbound && seconds > lastInbound.seconds) {
          const power = (energy - lastInbound.energy) / (seconds - lastInbound.seconds);
          if (power > VOICED_POWER) devCall.inbound.voicedSeconds += seconds - lastInbound.seconds;
        }
        lastInbound = { energy, seconds };
        devCall.inbound.energy = energy;
        devCall.inbound.seconds = seconds;
        devCall.inbound.level = s.audioLevel || 0;
      } else if (s.type === "media-source" && s.kind === "audio") {
        devCall.outbound.energy = s.totalAudioEnergy || 0;
        devCall.outbound.level = s.audioLevel || 0;
      }
    });
    meter("bot", devCall.inbound.level);
    meter("mic", devCall.outbound.level);
  }

  function meter(which, level) {
    const db = level > 0 ? 20 * Math.log10(level) : -90;
    const width = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
    $(`${which}-level`).style.width = `${width}%`;
    $(`${which}-db`).textContent = level > 0 ? `${db.toFixed(0)} dBFS` : "";
  }

  function watchPeer() {
    pc.addEventListener("connectionstatechange", () => {
      devCall.connection = pc.connectionState;
      $("conn-state").textContent = pc.connectionState;
      addEvent("connection", pc.connectionState);
      if (pc.connectionState === "connected") setState("in-call");
      if (["failed", "closed"].includes(pc.connectionState)) finish(null);
    });
    pc.addEventListener("iceconnectionstatechange", () => {
      devCall.ice = pc.iceConnectionState;
      $("ice-state").textContent = pc.iceConnectionState;
    });
    pc.addEventListener("icecandidate", (e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      const candidate = {
        candidate: e.candidate.candidate,
        sdp_mid: e.candidate.sdpMid,
        sdp_mline_index: e.candidate.sdpMLineIndex,
      };
      if (pcId) patchCandidates([candidate]).catch(() => {});
      else pendingCandidates.push(candidate);
    });
    pc.addEventListener("track", (e) => {
      $("bot-audio").srcObject = e.streams[0] || new MediaStream([e.track]);
    });
  }

  async function call() {
    if (devCall.state === "connecting" || devCall.state === "in-call") return;
    Object.assign(devCall, {
      transcript: [], live: { caller: "", bot: "" }, events: [], turns: [],
      endReason: null, recordUrl: null, error: null, callId: null, messages: 0,
      botSpeaking: false, callerSpeaking: false, speech: [],
      inbound: { energy: 0, seconds: 0, voicedSeconds: 0, level: 0 },
      outbound: { energy: 0, level: 0 },
    });
    $("transcript").textContent = "";
    $("events").textContent = "";
    $("turns").textContent = "";
    $("record-link").hidden = true;
    $("end-reason").textContent = "–";
    startedAt = performance.now();
    pcId = null;
    pendingCandidates = [];
    lastInbound = null;
    setState("connecting");
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        // The browser cancels the bot's voice coming back through the speakers; the server
        // runs no echo gate for browser calls.
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      // No ICE servers: the page talks to this host directly, never to a STUN server.
      pc = new RTCPeerConnection({ iceServers: [] });
      watchPeer();
      channel = pc.createDataChannel("chat", { ordered: true });
      channel.addEventListener("message", (e) => {
        try {
          onServerMessage(JSON.parse(e.data));
        } catch (err) {
          console.warn("dev page: unreadable message", err);
        }
      });
      channel.addEventListener("open", () => {
        // Pipecat's connection counts the peer alive while pings arrive.
        timers.push(setInterval(() => {
          if (channel.readyState === "open") channel.send(`ping: ${Date.now()}`);
        }, 1000));
      });
      pc.addTransceiver(stream.getAudioTracks()[0], { direction: "sendrecv", streams: [stream] });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const response = await fetch("/api/offer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sdp: offer.sdp, type: offer.type }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || `offer refused (${response.status})`);
      pcId = answer.pc_id;
      await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
      await patchCandidates(pendingCandidates.splice(0));
      timers.push(setInterval(() => pollStats().catch(() => {}), STATS_MS));
    } catch (err) {
      devCall.error = String(err.message || err);
      addEvent("error", devCall.error);
      finish("error");
    }
  }

  function finish(state) {
    if (devCall.state === "ended" || devCall.state === "error") return;
    pollStats().catch(() => {}).finally(() => {
      timers.forEach(clearInterval);
      timers = [];
      if (pc) pc.close();
      if (stream) stream.getTracks().forEach((t) => t.stop());
      pc = null;
      channel = null;
      stream = null;
    });
    setState(state || "ended");
    showRecordLink();
  }

  function hangUp() {
    if (!devCall.endReason) {
      devCall.endReason = "you hung up";
      $("end-reason").textContent = devCall.endReason;
      addEvent("end", devCall.endReason);
    }
    finish(null);
  }

  $("call").addEventListener("click", call);
  $("hangup").addEventListener("click", hangUp);
  devCall.call = call;
  devCall.hangUp = hangUp;

  fetch("/api/dev-page")
    .then((r) => (r.ok ? r.json() : null))
    .then((status) => {
      if (status) {
        showRealtime(status.realtime);
        $("profile").textContent = status.profile;
      }
    })
    .catch(() => {});

  if (new URLSearchParams(location.search).get("autocall") === "1") call();
})();
