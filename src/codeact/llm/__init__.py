"""LLM backends behind one protocol, one registry of backends, and the local model registry.

``make_llm(spec)`` builds a backend; backends import their heavy dependencies lazily, and
the registry imports a backend's module only when it is used. A new backend is one module
(a :class:`BaseLLM` subclass writing ``_raw_stream``) plus one :func:`register` line.
"""

from .base import LLM, BaseLLM, Completion, LLMError, Message, StreamEnd, StreamRequest
from .factory import DEFAULT_MODEL, make_llm
from .models import ModelError, list_models, model_path, pull
from .registry import register
from .scripted import ScriptedLLM
from .serialized import SerializedLLM, serialize

__all__ = [
    "DEFAULT_MODEL",
    "LLM",
    "BaseLLM",
    "Completion",
    "LLMError",
    "Message",
    "ModelError",
    "ScriptedLLM",
    "SerializedLLM",
    "StreamEnd",
    "StreamRequest",
    "list_models",
    "make_llm",
    "model_path",
    "pull",
    "register",
    "serialize",
]
