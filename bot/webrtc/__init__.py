"""The browser dev page: GET / and its WebRTC offer endpoint, run as lines of the telephony
server (README "Talk to it in a browser", docs/architecture.md)."""
