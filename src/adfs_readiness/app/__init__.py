"""Plain functions behind the commands, called by the CLI, the fleet and tests alike: nothing
here parses arguments or prints.

* :mod:`.run` — settings for a run (file + flags + check selectors, every problem at once), the
  certificate password, the scheduled-run options;
* :mod:`.selection` — ``--only`` / ``--skip`` / ``checks.skip`` selectors checked against the
  installed checks ("did you mean");
* :mod:`.scheduled` — one target end to end: lock, run, accepted risks, history, notification;
* :mod:`.fleet` — many tenants, their reports and the index;
* :mod:`.reports` — rendering and writing the report files;
* :mod:`.evidence` — ``collect`` and ``assess`` of evidence snapshots;
* :mod:`.demo` — the one-command tour of the built-in lab.
"""
