"""One run, stage by stage, joined only by files in the run directory (core.layout):
``benchmark``/``manifest`` select items -> ``generation`` synthesizes -> ``scoring`` scores
(``applicability`` decides which scorer sees which item) -> ``merge`` finalizes the shards.
``runner`` strings them together for one shard; ``run_guard`` locks a shard and judges failures."""
