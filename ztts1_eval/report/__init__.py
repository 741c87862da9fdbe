"""From stored runs to what people read, loading no model: ``results`` finalizes a run
(items.parquet, results.json), ``aggregate`` and ``stats`` give the cells, ``tables`` builds the
rows once and renders them, ``plots``, ``listening`` and ``compare`` (paired tests, gates), and
``build`` regenerates all of it for a benchmark."""
