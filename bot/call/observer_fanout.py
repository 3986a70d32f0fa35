"""Several observers behind one Pipecat observer slot.

Pipecat's worker gives every observer its own queue and task, and hands each of them every
frame every processor handles: on a 50-frames-a-second call that per-observer cost was a top
entry in the load profile (BENCHMARKS.md). The call's own observers only look at a few
control frames, so they share one slot.
"""

from pipecat.observers.base_observer import BaseObserver, FramePushed


class FanOutObserver(BaseObserver):
    """Forwards first pushes to each observer in order (none here wants every push)."""

    def __init__(self, *observers: BaseObserver):
        super().__init__(observe_every_push=False)
        self._observers = observers

    async def on_push_frame(self, data: FramePushed):
        for observer in self._observers:
            await observer.on_push_frame(data)
