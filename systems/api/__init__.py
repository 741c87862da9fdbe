"""Shared parts of the API adapters: keys, retries, rate limits, voice cache, audio decoding."""
