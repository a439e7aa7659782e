"""The package's version, in one place: genexplorer.__version__, every checkpoint's config.json
("package_version") and pyproject.toml (read statically, without importing the package) take it from here."""
__version__ = "0.1.0"
