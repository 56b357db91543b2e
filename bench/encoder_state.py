"""Standard-library helpers of `mimmx bench encoders`' PyTorch side (bench/encoders_torch.py).

- read_safetensors: the .safetensors layout that src/io/safetensors.ts writes (8-byte little-endian
  header length, a JSON header, raw little-endian data). Debian has no `safetensors` module, so this
  small reader stands in for it.
- pair_by_order: pairs our encoder's state entries with a PyTorch model's by position, checking
  every shape. Our modules register their parameters and buffers in the same order as torchvision's
  (module by module, depth first), but under other names (stem.0 vs conv1), so position is the key
  and the shape check is what catches a layer that is missing, extra or in another place.

No torch import here: the mapping is tested without loading PyTorch.
"""
import json
import struct

# num_batches_tracked only matters for BatchNorm with momentum=None; neither side uses it, and our
# modules and torchvision's need not agree on whether it is there.
SKIPPED_SUFFIX = "num_batches_tracked"


class MappingError(ValueError):
    """Our state and the PyTorch model's do not line up (a count or a shape differs)."""


def read_safetensors(path):
    """Returns (tensors, metadata): tensors maps a name to (dtype code, shape, raw bytes)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: not a .safetensors file (shorter than its 8-byte header length)")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header length {n} exceeds the file size {len(buf)}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if 8 + n + end > len(buf):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        tensors[name] = (entry["dtype"], list(entry["shape"]), buf[8 + n + begin:8 + n + end])
    return tensors, metadata


def pair_by_order(ours, theirs):
    """Pairs (name, shape) lists by position, skipping num_batches_tracked on both sides.

    Returns [(our_name, their_name), ...]. Raises MappingError naming the first pair whose shapes
    differ, or, when every pair fits but one side has more entries, the first entry left over.
    """
    ours = [(n, list(s)) for n, s in ours if not n.endswith(SKIPPED_SUFFIX)]
    theirs = [(n, list(s)) for n, s in theirs if not n.endswith(SKIPPED_SUFFIX)]
    for i, ((on, os), (tn, ts)) in enumerate(zip(ours, theirs)):
        if os != ts:
            raise MappingError(
                f"state entry {i}: ours {on} has shape {os} but PyTorch's {tn} has shape {ts}"
            )
    if len(ours) != len(theirs):
        k = min(len(ours), len(theirs))
        extra = f"ours {ours[k][0]}" if len(ours) > k else f"PyTorch's {theirs[k][0]}"
        raise MappingError(
            f"{len(ours)} state entries in ours, {len(theirs)} in PyTorch's; the first unpaired is {extra}"
        )
    return [(on, tn) for (on, _), (tn, _) in zip(ours, theirs)]
