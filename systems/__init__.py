"""TTS system adapters. Add one: write a :class:`systems.base.TTSSystem` subclass, register it
in :data:`systems.registry.SYSTEMS`, and add ``conf/system/<name>.yaml``."""
