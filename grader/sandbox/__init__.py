"""The sandbox: student code runs only in a jailed worker process; the judge talks to it over a pipe.

``judge.SandboxedStudent`` is the trusted side (it implements ``grader.student.Student``);
``zygote`` forks workers from a warm interpreter; ``worker`` is the loop that runs student code;
``protocol`` is the plain-data wire format; ``limits``, ``landlock``, ``cgroups``,
``privileges`` (its own uid, no capabilities) and ``syscall_filter`` (seccomp) confine the
worker, and ``isolation`` is how the judge learns and records what confined it.
This package's ``__init__`` imports nothing, so the zygote loads only what the worker needs.
"""
