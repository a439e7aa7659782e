"""The torture suite: bad inputs, many users at once and faults, against a real running app.

    python -m genexplorer.torture                          # the full run: 30 users for 60 s, every fault
    python -m genexplorer.torture --users 5 --seconds 10   # a short one

The app runs as a subprocess (``python app.py``) on a copy of the checkpoints, with its own
runs, temp and cache folders, so nothing in the repository changes and its memory can be
read from /proc. Requests only ever go to 127.0.0.1.

* Bad inputs: ``CATALOGUE`` lists each as data (name, endpoint, arguments, files to build,
  what should happen). Each is sent through the page's API; the outcome is a clear error
  (a message for the user), handled (a normal answer), or a crash (an error without a
  message, a 5xx, a traceback in the server log other than a user error, a server that
  stops answering, or a change on disk). gradio_client refuses to send NaN or infinity,
  so those go as raw HTTP to the same endpoints.
* Class mode (classrows.py): every class route with every malformed body or query, every token refusal, a
  wrong or ended class, the caps (drawings a minute, students per class and the board, classes at once), and
  every route without the login of an app started with ``--auth``.
* Load: N users, each with their own session, draw, start a latent walk, slide and
  interpolate for T seconds; every answer must equal what that user's own inputs gave in
  a quiet reference pass (so no session sees another's drawing or latent); latency
  median and p95, the app's memory and its temp files at start, middle and end.
* Faults: training processes killed mid-epoch and mid-save, the app killed while a run
  goes on, a disk that fills while a checkpoint is written, a missing optional dataset.
"""
from .app import (HOST, ROOT, App, client, client_outcome, copy_checkpoints, diff, free_port,  # noqa: F401
                  listening_addresses, quick_snapshot, raw_call, raw_get, snapshot)
from .bad_files import FILES, build_file, drawn_digit, pickle_bomb, plant_broken_checkpoints  # noqa: F401
from .catalogue import CATALOGUE, BadInput, File, Outcome, run_bad_inputs, summarise_bad_inputs, train_args  # noqa: F401
from .classrows import run_auth_rows, run_class_rows  # noqa: F401
from .faults import (fault_app_restart, fault_disk_full, fault_disk_full_real, fault_failures,  # noqa: F401
                     fault_kill_live_child, fault_kill_training, fault_missing_fashion, fault_queue_cap,
                     tiny_dataset_zip)
from .load import print_load, run_load, user_plans  # noqa: F401
