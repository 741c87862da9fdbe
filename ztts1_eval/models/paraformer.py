"""Paraformer-zh inference (FunASR's ``AutoModel(model="paraformer-zh")``, the SeACo-Paraformer
Seed-TTS-Eval and CV3-Eval transcribe Chinese with), without hotwords.

Written here because FunASR imports torchaudio at import time (its Kaldi fbank and resampler),
which cannot be installed beside our torch; ``scripts/paraformer_reference.py`` checks every stage
against the official package on random weights. Parameter names are FunASR's, so ``model.pt``
loads with strict keys. What runs, as ``SeacoParaformer.inference`` runs it with no hotword list:
Kaldi fbank of the 16 kHz waveform x 32768 (kaldi-native-fbank), low frame rate stacking (LFR),
CMVN from ``am.mvn``; the SANM encoder; the CIF predictor with its tail threshold; the SANM
decoder on the fired acoustic embeddings; argmax per token; blank, <s> and </s> dropped; FunASR's
``sentence_postprocess`` with timestamps (CifPredictorV3 models join words with spaces). The
predictor's upsampling branch (timestamps only) and the SeACo hotword modules are not run.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LAYER_NORM_EPS = 1e-12  # FunASR's LayerNorm


def _norm(size: int) -> nn.LayerNorm:
    return nn.LayerNorm(size, eps=LAYER_NORM_EPS)


# ---- front end (the Kaldi fbank itself: ztts1_eval.models.kaldi_fbank) -------------------------

def apply_lfr(feats: np.ndarray, m: int, n: int) -> np.ndarray:
    """Stack ``m`` frames every ``n``: the first frame repeated (m-1)//2 times in front, the last
    repeated behind as needed; ``ceil(T / n)`` output frames."""
    frames = feats.shape[0]
    out_frames = math.ceil(frames / n)
    padded = np.concatenate([np.repeat(feats[:1], (m - 1) // 2, axis=0), feats])
    need = (out_frames - 1) * n + m
    if padded.shape[0] < need:
        padded = np.concatenate([padded, np.repeat(padded[-1:], need - padded.shape[0], axis=0)])
    return np.stack([padded[i * n: i * n + m].reshape(-1) for i in range(out_frames)]).astype(np.float32)


def read_cmvn(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``am.mvn`` (Kaldi nnet text): the <AddShift> and <Rescale> vectors."""
    lines = text.splitlines()
    found: dict[str, np.ndarray] = {}
    for i, line in enumerate(lines):
        parts = line.split()
        if parts and parts[0] in ("<AddShift>", "<Rescale>") and i + 1 < len(lines):
            values = lines[i + 1].split()
            if values and values[0] == "<LearnRateCoef>":
                found[parts[0]] = np.array(values[3:-1], dtype=np.float32)
    if set(found) != {"<AddShift>", "<Rescale>"}:
        raise ValueError("am.mvn has no <AddShift>/<Rescale> vectors")
    return found["<AddShift>"], found["<Rescale>"]


# ---- encoder ---------------------------------------------------------------------------------

def sinusoids(frames: int, depth: int) -> torch.Tensor:
    """FunASR's SinusoidalPositionEncoder for positions 1..frames (float32, as it computes)."""
    positions = torch.arange(1, frames + 1, dtype=torch.float32)
    increment = torch.log(torch.tensor([10000.0], dtype=torch.float32)) / (depth / 2 - 1)
    inv = torch.exp(torch.arange(depth / 2, dtype=torch.float32) * -increment)
    scaled = positions[None, :, None] * inv[None, None, :]
    return torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=2)


class Fsmn(nn.Module):
    """Depthwise convolution memory over time, added to its input."""

    def __init__(self, size: int, kernel_size: int, shift: int = 0):
        super().__init__()
        self.fsmn_block = nn.Conv1d(size, size, kernel_size, groups=size, bias=False)
        left = (kernel_size - 1) // 2 + (shift if shift > 0 else 0)
        self.padding = (left, kernel_size - 1 - left)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fsmn_block(F.pad(x.transpose(1, 2), self.padding)).transpose(1, 2) + x


class SanmAttention(nn.Module):
    def __init__(self, heads: int, in_size: int, size: int, kernel_size: int, shift: int = 0):
        super().__init__()
        self.heads, self.d_k = heads, size // heads
        self.linear_q_k_v = nn.Linear(in_size, size * 3)
        self.linear_out = nn.Linear(size, size)
        fsmn = Fsmn(size, kernel_size, shift)
        self.fsmn_block, self.padding = fsmn.fsmn_block, fsmn.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = torch.split(self.linear_q_k_v(x), self.heads * self.d_k, dim=-1)
        memory = self.fsmn_block(F.pad(v.transpose(1, 2), self.padding)).transpose(1, 2) + v
        q, k, vh = (z.reshape(b, t, self.heads, self.d_k).transpose(1, 2) for z in (q, k, v))
        attn = torch.softmax(torch.matmul(q * self.d_k ** -0.5, k.transpose(-2, -1)), dim=-1)
        out = torch.matmul(attn, vh).transpose(1, 2).reshape(b, t, self.heads * self.d_k)
        return self.linear_out(out) + memory


class FeedForward(nn.Module):
    def __init__(self, size: int, hidden: int):
        super().__init__()
        self.w_1 = nn.Linear(size, hidden)
        self.w_2 = nn.Linear(hidden, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(torch.relu(self.w_1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, in_size: int, size: int, heads: int, hidden: int, kernel_size: int, shift: int):
        super().__init__()
        self.self_attn = SanmAttention(heads, in_size, size, kernel_size, shift)
        self.feed_forward = FeedForward(size, hidden)
        self.norm1, self.norm2 = _norm(in_size), _norm(size)
        self.residual = in_size == size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attended = self.self_attn(self.norm1(x))
        x = x + attended if self.residual else attended
        return x + self.feed_forward(self.norm2(x))


class SanmEncoder(nn.Module):
    def __init__(self, input_size: int, output_size: int, attention_heads: int, linear_units: int, num_blocks: int,
                 kernel_size: int, sanm_shfit: int = 0):
        super().__init__()
        self.output_size = output_size
        self.encoders0 = nn.ModuleList([EncoderLayer(input_size, output_size, attention_heads, linear_units,
                                                     kernel_size, sanm_shfit)])
        self.encoders = nn.ModuleList(EncoderLayer(output_size, output_size, attention_heads, linear_units,
                                                   kernel_size, sanm_shfit) for _ in range(num_blocks - 1))
        self.after_norm = _norm(output_size)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = feats * self.output_size ** 0.5
        x = x + sinusoids(x.shape[1], x.shape[2]).to(x)
        for layer in [*self.encoders0, *self.encoders]:
            x = layer(x)
        return self.after_norm(x)


# ---- predictor -------------------------------------------------------------------------------

class CifPredictor(nn.Module):
    """Continuous integrate-and-fire over encoder frames (CifPredictorV3's text path)."""

    def __init__(self, idim: int, l_order: int, r_order: int, threshold: float = 1.0, smooth_factor: float = 1.0,
                 noise_threshold: float = 0.0, tail_threshold: float = 0.0):
        super().__init__()
        self.orders = (l_order, r_order)
        self.cif_conv1d = nn.Conv1d(idim, idim, l_order + r_order + 1)
        self.cif_output = nn.Linear(idim, 1)
        self.threshold, self.smooth_factor = threshold, smooth_factor
        self.noise_threshold, self.tail_threshold = noise_threshold, tail_threshold

    def alphas(self, hidden: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.cif_conv1d(F.pad(hidden.transpose(1, 2), self.orders))).transpose(1, 2)
        alphas = torch.sigmoid(self.cif_output(out))
        return torch.relu(alphas * self.smooth_factor - self.noise_threshold).squeeze(-1)

    def forward(self, hidden: torch.Tensor) -> tuple[torch.Tensor, int, torch.Tensor]:
        """Acoustic embeddings ``[1, N, D]``, the token count N, and the alphas (tail included)."""
        alphas = self.alphas(hidden)
        if self.tail_threshold > 0.0:
            alphas = torch.cat([alphas, torch.full_like(alphas[:, :1], self.tail_threshold)], dim=1)
            hidden = torch.cat([hidden, torch.zeros_like(hidden[:, :1])], dim=1)
            token_num = int(torch.floor(alphas.sum(-1)).max().item())
        else:
            token_num = int(torch.round(alphas.sum(-1)).max().item())
        embeds = integrate_and_fire(hidden[0], alphas[0], self.threshold)
        width = int(torch.round(alphas.sum(-1)).max().item())
        embeds = torch.cat([embeds, embeds.new_zeros(max(width - embeds.shape[0], 0), embeds.shape[1])])
        return embeds[None, :token_num], token_num, alphas


def integrate_and_fire(hidden: torch.Tensor, alphas: torch.Tensor, threshold: float) -> torch.Tensor:
    """FunASR's ``cif`` loop for one utterance: the weighted frame sums at each firing."""
    integrate = torch.zeros((), dtype=alphas.dtype)
    frame = torch.zeros(hidden.shape[1], dtype=hidden.dtype)
    fired = []
    for t in range(alphas.shape[0]):
        alpha = alphas[t]
        completion = 1.0 - integrate
        integrate = integrate + alpha
        fire = bool(integrate >= threshold)
        cur = completion if fire else alpha
        frame = frame + cur * hidden[t]
        if fire:
            fired.append(frame)
            integrate = integrate - 1.0
            frame = (alpha - cur) * hidden[t]
    return torch.stack(fired) if fired else hidden.new_zeros(0, hidden.shape[1])


# ---- decoder ---------------------------------------------------------------------------------

class CrossAttention(nn.Module):
    def __init__(self, heads: int, size: int):
        super().__init__()
        self.heads, self.d_k = heads, size // heads
        self.linear_q = nn.Linear(size, size)
        self.linear_k_v = nn.Linear(size, size * 2)
        self.linear_out = nn.Linear(size, size)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        q = self.linear_q(x).reshape(b, -1, self.heads, self.d_k).transpose(1, 2)
        k, v = torch.split(self.linear_k_v(memory), self.heads * self.d_k, dim=-1)
        k, v = (z.reshape(b, -1, self.heads, self.d_k).transpose(1, 2) for z in (k, v))
        attn = torch.softmax(torch.matmul(q * self.d_k ** -0.5, k.transpose(-2, -1)), dim=-1)
        return self.linear_out(torch.matmul(attn, v).transpose(1, 2).reshape(b, -1, self.heads * self.d_k))


class DecoderFeedForward(nn.Module):
    def __init__(self, size: int, hidden: int):
        super().__init__()
        self.w_1 = nn.Linear(size, hidden)
        self.w_2 = nn.Linear(hidden, size, bias=False)
        self.norm = _norm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(self.norm(torch.relu(self.w_1(x))))


class DecoderLayer(nn.Module):
    """FunASR's DecoderLayerSANM: FFN, then FSMN memory (its residual is the layer input), then
    cross-attention; the last layer has the FFN alone, with no residual."""

    def __init__(self, size: int, heads: int, hidden: int, kernel_size: int, shift: int, full: bool):
        super().__init__()
        self.feed_forward = DecoderFeedForward(size, hidden)
        self.norm1 = _norm(size)
        self.full = full
        if full:
            self.norm2, self.norm3 = _norm(size), _norm(size)
            self.self_attn = Fsmn(size, kernel_size, shift)
            self.src_attn = CrossAttention(heads, size)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        residual = x
        x = self.feed_forward(self.norm1(x))
        if not self.full:
            return x
        x = residual + self.self_attn(self.norm2(x))
        return x + self.src_attn(self.norm3(x), memory)


class SanmDecoder(nn.Module):
    def __init__(self, vocab_size: int, size: int, attention_heads: int, linear_units: int, num_blocks: int,
                 att_layer_num: int, kernel_size: int, sanm_shfit: int = 0):
        super().__init__()
        if num_blocks != att_layer_num:
            raise ValueError("decoders without cross-attention (num_blocks > att_layer_num) are not supported")
        shift = (kernel_size - 1) // 2 if sanm_shfit is None else sanm_shfit
        self.decoders = nn.ModuleList(DecoderLayer(size, attention_heads, linear_units, kernel_size, shift, True)
                                      for _ in range(att_layer_num))
        self.decoders3 = nn.ModuleList([DecoderLayer(size, attention_heads, linear_units, kernel_size, shift, False)])
        self.after_norm = _norm(size)
        self.output_layer = nn.Linear(size, vocab_size)

    def forward(self, embeds: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        x = embeds
        for layer in [*self.decoders, *self.decoders3]:
            x = layer(x, memory)
        return torch.log_softmax(self.output_layer(self.after_norm(x)), dim=-1)


# ---- the model -------------------------------------------------------------------------------

SUPPORTED_MODELS = ("SeacoParaformer", "BiCifParaformer")


class Paraformer(nn.Module):
    def __init__(self, config: Mapping[str, Any], vocab_size: int):
        super().__init__()
        if config.get("model") not in SUPPORTED_MODELS or config.get("predictor") != "CifPredictorV3":
            raise ValueError(f"model {config.get('model')} with predictor {config.get('predictor')} is not supported "
                             f"(supported: {', '.join(SUPPORTED_MODELS)} with CifPredictorV3, as paraformer-zh)")
        enc, dec, pred, front = (dict(config[k]) for k in ("encoder_conf", "decoder_conf", "predictor_conf",
                                                            "frontend_conf"))
        if enc.get("input_layer", "pe") != "pe" or not enc.get("normalize_before", True):
            raise ValueError("only the SANM encoder with input_layer 'pe' and normalize_before is supported")
        input_size = front.get("n_mels", 80) * front.get("lfr_m", 1)
        self.encoder = SanmEncoder(input_size, enc["output_size"], enc["attention_heads"], enc["linear_units"],
                                   enc["num_blocks"], enc.get("kernel_size", 11), enc.get("sanm_shfit", 0))
        self.predictor = CifPredictor(pred["idim"], pred["l_order"], pred["r_order"], pred.get("threshold", 1.0),
                                      pred.get("smooth_factor", 1.0), pred.get("noise_threshold", 0.0),
                                      pred.get("tail_threshold", 0.0))
        self.decoder = SanmDecoder(vocab_size, enc["output_size"], dec["attention_heads"], dec["linear_units"],
                                   dec["num_blocks"], dec.get("att_layer_num", dec["num_blocks"]),
                                   dec.get("kernel_size", 21), dec.get("sanm_shfit", 0))
        model_conf = dict(config.get("model_conf") or {})
        self.blank_id = model_conf.get("blank_id", 0)
        self.sos = model_conf.get("sos", vocab_size - 1)
        self.eos = model_conf.get("eos", vocab_size - 1)

    def forward(self, feats: torch.Tensor) -> dict[str, Any]:
        """LFR+CMVN features ``[1, T, D]`` to the stages' outputs and the token ids."""
        encoder_out = self.encoder(feats)
        embeds, token_num, alphas = self.predictor(encoder_out)
        if token_num < 1:
            return {"encoder_out": encoder_out, "alphas": alphas, "token_num": token_num, "scores": None, "ids": []}
        scores = self.decoder(embeds, encoder_out)
        ids = [i for i in scores[0].argmax(dim=-1).tolist() if i not in (self.blank_id, self.sos, self.eos)]
        return {"encoder_out": encoder_out, "alphas": alphas, "token_num": token_num, "scores": scores, "ids": ids}


# ---- text ------------------------------------------------------------------------------------

SPECIAL = ("<s>", "</s>", "<unk>", "<OOV>")


def _is_chinese(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u0030" <= ch <= "\u0039" or ch == "@"


def _strip(word: str) -> str:
    for mark in (" ", *SPECIAL):
        word = word.replace(mark, "")
    return word


def _all_chinese(words: Sequence[str]) -> bool:
    words = [_strip(w) for w in words]
    return bool(words) and all(_is_chinese(w) for w in words)


def _all_alpha(words: Sequence[str]) -> bool:
    words = [_strip(w) for w in words]
    return bool(words) and all((w.isalpha() or w == "'") and not (w.isalpha() and _is_chinese(w)) for w in words)


def _single_letter(word: str) -> bool:
    return len(word) == 1 and word.encode("utf-8").isalpha()


def _join_abbreviations(words: list[str]) -> list[str]:
    """FunASR's ``abbr_dispose`` text path: single letters separated by spaces become one
    upper-case word ("a", " ", "b" -> "AB")."""
    size = len(words)
    begins, ends = [], []
    last = -1
    for num in range(size):
        if num <= last:
            continue
        if _single_letter(words[num]) and num + 2 < size and words[num + 1] == " " and _single_letter(words[num + 2]):
            begins.append(num)
            num += 2
            ends.append(num)
            while True:
                num += 1
                if num < size and words[num] == " ":
                    num += 1
                    if num < size and _single_letter(words[num]):
                        ends[-1] = num
                        last = num
                    else:
                        break
                else:
                    break
    out: list[str] = []
    last = -1
    for num in range(size):
        if num <= last:
            continue
        if num in begins:
            word = words[num].upper()
            num += 1
            while num < size:
                if num in ends:
                    word += words[num].upper()
                    last = num
                    break
                if words[num].encode("utf-8").isalpha():
                    word += words[num].upper()
                num += 1
            out.append(word)
        else:
            out.append(words[num])
    return out


def sentence_postprocess(tokens: Sequence[str], timestamps: bool) -> str:
    """FunASR's ``sentence_postprocess`` text: Chinese characters kept, ``@@`` subwords joined,
    English words followed by a space, abbreviations joined; with timestamps (CifPredictorV3
    models) the words are joined by spaces, without them directly."""
    middle = [t for t in tokens if t not in SPECIAL]
    words: list[str] = []
    item = ""
    if _all_chinese(middle):
        words = [ch.replace(" ", "") for ch in middle]
    elif _all_alpha(middle):
        for ch in middle:
            if "@@" in ch:
                item += ch.replace("@@", "")
            else:
                words += [item + ch, " "]
                item = ""
    else:
        alpha_blank = False
        for ch in middle:
            if _all_chinese(ch):
                if alpha_blank:
                    words.pop()
                words.append(ch)
                alpha_blank = False
            elif "@@" in ch:
                item += ch.replace("@@", "")
                alpha_blank = False
            elif _all_alpha(ch):
                words += [item + ch, " "]
                item = ""
                alpha_blank = True
            else:
                words.append(ch)
    words = _join_abbreviations(words)
    if timestamps:
        return " ".join(w for w in words if w != " ").strip()
    return "".join(words).strip()
