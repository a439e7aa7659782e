"""The developers' tools, apart from the app: the benchmark (bench.py, ``python -m genexplorer.bench``), its
quality tables (quality.py, zoo_table.py, imagetoimage.py, gandynamics.py), the classroom load generator
(classroom.py) and the torture suite (torture/, ``python -m genexplorer.torture``).

``python app.py`` never imports this package, and this package uses only public names of the runtime and
nothing of ``genexplorer.ui``: what it needs of the page it asks the running app over HTTP."""
