"""Grounded multi-turn explanations of an inspection (IAD-GPT's dialogue, kept to the facts)."""

from engine.explain.claims import Claims, parse_claims
from engine.explain.conversation import GROUNDED, Answer, Conversation, Turn
from engine.explain.guard import conflicts

__all__ = ["Answer", "Claims", "Conversation", "GROUNDED", "Turn", "conflicts", "parse_claims"]
