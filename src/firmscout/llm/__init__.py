"""Language-model adapters: one OpenAI-compatible protocol adapter; vendors are configuration."""
