"""The same sentence-transformers model run on ONNX Runtime: identical vectors, about 4× faster per query.

sentence-transformers' own ONNX backend exports through ``optimum-onnx``, which pins transformers 4.x and would
downgrade the whole stack (sentence-transformers 6 → 5.7, transformers 5 → 4.57); so the export is done here,
with ``torch.onnx.export``, once per model: the graph is the model's Transformer, mean pooling over the attention
mask and L2 normalisation (the pipeline of all-MiniLM-L6-v2's ``modules.json``), so it returns finished vectors.

The exported file is cached beside the embedding cache, named by the sha256 of the weights it came from, and
checked on every load by encoding a probe text and comparing it with the vector the PyTorch model gave at export
time. A mismatch, a damaged file or a model that is not such a pipeline gives a clear ``ModelError``; the
caller falls back to PyTorch. Serving with ONNX never imports torch.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import ModelError
from .model import Embedder, file_sha256, verify_bundled

logger = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the exported graph changes
PROBE = "How much does the master's program cost, and is the GRE required for admission?"
MIN_COSINE = 0.99999
# What one more ONNX Runtime call costs, in padded tokens' worth of compute: a call streams every weight once
# (about 1.7 ms on one core here) and each padded token costs about 0.21 ms. Fitted by least squares on
# batches of 1-16 texts of 8-64 tokens (bench/encoder_cost.py), one core, 2026-11-29: 7.9 tokens.
CALL_TOKENS = 8.0
PIPELINE = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def _pipeline_ok(folder: Path) -> str | None:
    """Why the model folder cannot be exported as Transformer → mean pooling → Normalize (None: it can)."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError) as exc:
        return f"cannot read the model's pipeline ({exc})"
    if [m.get("type") for m in modules] != PIPELINE:
        return "the model is not Transformer → Pooling → Normalize"
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        return f"pooling is {sorted(modes)}, not mean"
    if not (folder / "tokenizer.json").is_file():
        return "the model has no tokenizer.json"
    return None


def _max_length(folder: Path) -> int:
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256


def export(folder: Path, target: Path) -> list[float]:
    """Export the model to ``target`` (atomically) and return the PyTorch vector of the probe text."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))

    class Pipeline(torch.nn.Module):
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    pipeline = Pipeline(model)
    with torch.no_grad():  # the reference vector, taken before tracing touches the model
        one = tokenizer([PROBE], return_tensors="pt")
        probe = pipeline(one["input_ids"], one["attention_mask"], one["token_type_ids"])[0].tolist()
    sample = tokenizer([PROBE, "a shorter one"], padding=True, return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on constant shapes do not apply: checked below
            torch.onnx.export(
                pipeline,
                inputs,
                tmp,
                input_names=names,
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles this graph
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is shared like the index
        os.replace(tmp, target)
    except Exception as exc:  # noqa: BLE001 - any exporter failure becomes one clear message
        Path(tmp).unlink(missing_ok=True)
        raise ModelError(f"ONNX export of {folder} failed: {exc}") from exc
    return probe


def plan_batches(widths: list[int], *, most: int, budget: int, call_tokens: float = CALL_TOKENS) -> list[range]:
    """Split texts sorted longest first (``widths``: their token counts) into consecutive batches that cost the
    least: each batch pads to its first text, so it costs ``call_tokens`` plus its size times that width. A
    batch holds at most ``most`` texts and ``budget`` padded tokens (a single text always fits)."""
    n = len(widths)
    best = [0.0] + [float("inf")] * n  # best[j]: the cheapest plan for the first j texts
    start = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - most), -1):  # the last batch is texts i..j-1
            size = j - i
            if size > 1 and size * widths[i] > budget:
                break  # widths[i] only grows as i falls
            cost = best[i] + call_tokens + size * widths[i]
            if cost < best[j]:
                best[j], start[j] = cost, i
    plan, j = [], n
    while j:
        plan.append(range(start[j], j))
        j = start[j]
    return plan[::-1]


class OnnxEmbedder(Embedder):
    """Encodes with ONNX Runtime; exports and caches the model on first use (never at import or construction).
    ``fallback`` builds the encoder used instead when ONNX cannot run the model (None: the error is raised)."""

    def __init__(
        self,
        spec,
        cache_dir: Path,
        batch_size: int = 64,
        threads: int | None = None,
        token_budget: int = 256,
        fallback: Callable[[], Embedder] | None = None,
    ):
        self.spec = spec
        self._make_fallback = fallback
        self.token_budget = token_budget
        self.model_id = spec.model_id
        self.model_hash: str | None = None
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir)
        self.threads = threads or os.cpu_count() or 1
        self.backend = "onnx"
        self._dim = 0
        self._session = None
        self._single = None  # a one-thread session for serving under load (``open_single_thread``)
        self._path: Path | None = None
        self._fallback = None  # the PyTorch model, when ONNX cannot be used
        self._tokenizer = None
        self._lock = threading.Lock()

    # --- loading ------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        self.load()
        return self._fallback.dim if self._fallback is not None else self._dim

    @property
    def loaded(self) -> bool:
        return self._session is not None or self._fallback is not None

    def load(self):
        with self._lock:
            if self._session is None and self._fallback is None:
                try:
                    self._load()
                except ModelError as exc:
                    if self._make_fallback is None:
                        raise
                    self._session, self._fallback = None, self._make_fallback()
                    logger.warning("ONNX encoder unavailable, using %s: %s", self._fallback.backend, exc)
                    self._fallback.load()
                    self.backend, self.model_hash = self._fallback.backend, self._fallback.model_hash
        return self._session or self._fallback

    def token_count(self, text: str) -> int:
        """Tokens of ``text`` as this encoder reads it (with its start and end markers)."""
        self.load()
        return len(self._tokenizer.encode(text).ids)

    def _weights_hash(self, folder: Path) -> str:
        if self.spec.bundled:
            return verify_bundled(self.spec.location)
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"{folder} has no model.safetensors to export")
        return file_sha256(weights)

    def _load(self) -> None:
        folder = Path(self.spec.location)
        if not folder.is_dir():
            raise ModelError(f"ONNX needs a local model folder; {self.spec.location!r} is not one")
        why = _pipeline_ok(folder)
        if why:
            raise ModelError(f"cannot run {self.model_id} on ONNX: {why}")
        self.model_hash = self._weights_hash(folder)
        path = self.cache_dir / "onnx" / f"{self.model_hash[:16]}-v{EXPORT_VERSION}.onnx"
        meta_path = path.with_suffix(".json")
        for attempt in (1, 2):
            meta = self._read_meta(meta_path)
            if meta is None or not path.is_file() or meta.get("model_sha256") != self.model_hash:
                logger.info("exporting %s to ONNX (once per model): %s", self.model_id, path)
                probe = export(folder, path)
                meta = {"model_id": self.model_id, "model_sha256": self.model_hash, "probe": probe}
                self._write_meta(meta_path, meta)
            try:
                self._open(folder, path)
                got = self._encode([PROBE])[0]
            except Exception as exc:  # noqa: BLE001 - a damaged file is re-exported once
                got, error = None, exc
            else:
                error = None
            expected = np.asarray(meta["probe"], dtype=np.float32)
            if got is not None and float(got @ expected) >= MIN_COSINE:
                self._dim = int(got.shape[0])
                logger.info("encoder: ONNX Runtime (%s, %d threads)", path.name, self.threads)
                return
            logger.warning("cached ONNX model %s does not match its source (%s); exporting again", path, error)
            self._session = None
            path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            if attempt == 2:
                break
        raise ModelError(f"the ONNX export of {self.model_id} does not reproduce the PyTorch vectors")

    @staticmethod
    def _read_meta(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _write_meta(path: Path, meta: dict) -> None:
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    def _open(self, folder: Path, path: Path) -> None:
        from tokenizers import Tokenizer

        self._path = path
        self._session = self._new_session(path, self.threads)
        self._single = None
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=_max_length(folder))
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    @staticmethod
    def _new_session(path: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def open_single_thread(self) -> bool:
        """Open the one-core session ``embed(..., single_thread=True)`` uses (a second copy of the weights,
        about 90 MB); False when this encoder has none (PyTorch fallback, or one core only)."""
        self.load()
        if self._fallback is not None or self.threads <= 1:
            return False
        with self._lock:
            if self._single is None:
                self._single = self._new_session(self._path, 1)
        return True

    # --- encoding -----------------------------------------------------------------------------
    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._run(self._tokenizer.encode_batch(texts))

    def _run(self, encodings, session=None) -> np.ndarray:
        """One batch: pad to the longest text of the batch, run the graph."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return (session or self._session).run(None, feeds)[0]

    def embed(self, texts: list[str], *, progress: bool = False, single_thread: bool = False) -> np.ndarray:
        """Vectors of ``texts``. ``single_thread``: on one core (once ``open_single_thread`` has run), leaving
        the others to a server composing answers meanwhile; otherwise on ``threads`` cores."""
        self.load()
        if self._fallback is not None:
            return self._fallback.embed(texts, progress=progress)
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths, split where a new call costs less than the
        # padding it saves (``plan_batches``); a batch holds at most ``token_budget`` padded tokens: ONNX Runtime
        # on a CPU runs long passages fastest one or two at a time, short queries by dozens.
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        widths = [len(encodings[i].ids) for i in order]
        batches = [
            order[r.start : r.stop] for r in plan_batches(widths, most=self.batch_size, budget=self.token_budget)
        ]
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        steps = batches
        if progress:
            from tqdm import tqdm

            steps = tqdm(batches, desc="embedding", unit="batch")
        session = self._single if single_thread and self._single is not None else self._session
        for rows in steps:
            out[rows] = self._run([encodings[i] for i in rows], session)
        return out
