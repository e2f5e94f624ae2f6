"""LLM backends behind one protocol, and the local model registry.

``make_llm(spec)`` builds a backend; backends import their heavy dependencies lazily.
"""

from .base import LLM, BaseLLM, Completion, LLMError, Message
from .factory import DEFAULT_MODEL, make_llm
from .models import ModelError, list_models, model_path, pull
from .scripted import ScriptedLLM

__all__ = [
    "DEFAULT_MODEL",
    "LLM",
    "BaseLLM",
    "Completion",
    "LLMError",
    "Message",
    "ModelError",
    "ScriptedLLM",
    "list_models",
    "make_llm",
    "model_path",
    "pull",
]
