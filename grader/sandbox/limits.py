"""Resource limits for one submission's worker, and applying them as rlimits."""

from __future__ import annotations

import math
import resource
from dataclasses import asdict, dataclass

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times are seconds, sizes bytes.

    ``call_seconds`` bounds each call's wall-clock time; ``submission_seconds`` bounds the
    wall-clock time of loading the code plus all calls; ``cpu_seconds`` is each worker
    process's CPU budget (kernel-enforced, so background threads cannot run for free).
    ``processes`` bounds tasks (processes and threads) in the worker's pids cgroup.
    """

    call_seconds: float = 10.0
    load_seconds: float = 10.0
    submission_seconds: float = 60.0
    cpu_seconds: float = 60.0
    memory_bytes: int = 2 * GIB
    processes: int = 16
    file_bytes: int = 16 * MIB
    folder_bytes: int = 64 * MIB
    open_files: int = 64
    reply_bytes: int = 256 * MIB  # read from the worker in one round of calls, in all (per reply: judge.reply_budget)

    def to_json(self) -> dict:
        """The limits as a JSON-ready dict (sent to the zygote)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Limits":
        """Inverse of :meth:`to_json`; unknown keys are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def apply_rlimits(limits: Limits, cpu_seconds: float) -> None:
    """Set hard rlimits on the calling process (irreversible: soft == hard).

    RLIMIT_NPROC is set too, though it does not bind root; the pids cgroup or the PID
    namespace is what bounds processes there. RLIMIT_RTPRIO and RLIMIT_NICE are 0: no real-time
    priority, and no lowering of one's nice value (raising one's priority).
    """
    cpu = max(1, math.ceil(cpu_seconds))
    for res, value in (
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_RTPRIO, 0),
        (resource.RLIMIT_NICE, 0),
    ):
        resource.setrlimit(res, (value, value))
