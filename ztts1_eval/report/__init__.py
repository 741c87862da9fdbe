"""From stored runs to what people read, loading no model: ``results`` finalizes a run
(items.parquet, results.json) with the cells of ``aggregate``; ``model.load_results`` reads it
back as typed objects, the only way the rest reads a run; ``profile`` holds the paper's
conventions; ``tables`` builds the rows once and renders them, ``plots``, ``listening`` and
``compare`` (paired tests, gates), and ``build`` regenerates all of it for a benchmark."""
