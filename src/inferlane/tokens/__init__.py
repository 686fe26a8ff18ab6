"""Prompt token counting for routing: the seed's chars/4 estimate, or a real local tokenizer."""
