"""``python -m genexplorer.torture``: the torture suite's command, kept where README names it. The suite is
genexplorer/devtools/torture/, which the app never imports."""
