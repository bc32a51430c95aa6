"""Environment capture at run start: what code, command, interpreter, packages and machine produced a run.

Each part is switchable (``RIDGELINE_CAPTURE`` or ``start_run(capture=...)``) and none may hurt the run: a part
that fails is reported on the ``ridgeline`` logger and skipped. Short facts become ``ridgeline.*`` tags (shown
by the UI and used by ``ridgeline runs reproduce``); long ones (the package list, the uncommitted diff, the whole
record as JSON) become text files meant for the artifact store.

One module per part (``git``, ``command``, ``python``, ``host``); ``run_capture`` runs them for a run. This file
imports nothing: everything heavy (psutil, pynvml, subprocesses) is loaded or started only when a run asks for
it, so ``import ridgeline`` pays nothing for this package.
"""
