"""PEM blocks (RFC 7468) found in linear time.

The obvious regular expression, ``-----BEGIN X-----(.*?)-----END X-----`` with ``finditer``,
restarts its lazy scan to the end of the input at every BEGIN line that has no END: a file of
nothing but BEGIN lines (hostile or merely truncated) costs quadratic time and more (a 560 kB
file took a minute). Here each BEGIN is paired with the next END by ``bytes.find``; once a BEGIN
has no END after it no later one can have one, so the scan stops. Every byte is looked at a
bounded number of times.
"""

from __future__ import annotations

from typing import Iterator

__all__ = ["PemBlock", "pem_blocks", "strip_pem_blocks"]

_DASHES = b"-----"


class PemBlock:
    """One block: ``label`` (e.g. ``b"CERTIFICATE"``, ``b"ENCRYPTED PRIVATE KEY"``), ``body`` (the
    bytes between the BEGIN and END lines, base64 and any RFC 1421 headers), and ``start``/``end``
    offsets of the whole block in the input (``end`` just after the END line's dashes)."""

    __slots__ = ("label", "body", "start", "end")

    def __init__(self, label: bytes, body: bytes, start: int, end: int) -> None:
        self.label, self.body, self.start, self.end = label, body, start, end


def _markers(data: bytes, word: bytes) -> Iterator[tuple[int, bytes, int]]:
    """(offset, label, offset after the line's closing dashes) of every ``-----<word><label>-----``."""
    marker = _DASHES + word
    position = 0
    while True:
        found = data.find(marker, position)
        if found < 0:
            return
        label_start = found + len(marker)
        label_end = data.find(_DASHES, label_start, label_start + 65)
        if label_end < 0:
            position = label_start
            continue
        yield found, data[label_start:label_end], label_end + len(_DASHES)
        position = label_end + len(_DASHES)


def pem_blocks(data: bytes, labels: tuple[bytes, ...] | None = None, *,
               label_suffix: bytes | None = None) -> Iterator[PemBlock]:
    """The PEM blocks of ``data`` in order. ``labels``: only blocks whose label is one of these
    (None = any); ``label_suffix``: only labels ending with it (e.g. ``b"PRIVATE KEY"``). A block
    counts only when its END line carries the same label; a BEGIN inside a block is part of its
    body. Labels longer than 64 bytes are not labels (RFC 7468 labels are short words).

    Linear: one pass collects every END line by label, one pass pairs each BEGIN with the first
    END of its label after it (a cursor per label only moves forward).
    """
    ends: dict[bytes, list[int]] = {}
    for offset, label, _ in _markers(data, b"END "):
        ends.setdefault(label, []).append(offset)
    cursor: dict[bytes, int] = {}
    position = 0
    for begin, label, body_start in _markers(data, b"BEGIN "):
        if begin < position:
            continue
        if labels is not None and label not in labels or label_suffix is not None and not label.endswith(label_suffix):
            continue
        offsets = ends.get(label, [])
        index = cursor.get(label, 0)
        while index < len(offsets) and offsets[index] < body_start:
            index += 1
        cursor[label] = index
        if index == len(offsets):
            continue
        end = offsets[index]
        after = end + len(_DASHES) + len(b"END ") + len(label) + len(_DASHES)
        yield PemBlock(label, data[body_start:end], begin, after)
        position = after


def strip_pem_blocks(text: str, label_suffix: str, replacement: str) -> str:
    """``text`` with every PEM block whose label ends with ``label_suffix`` (e.g. ``"PRIVATE KEY"``)
    replaced by ``replacement``. For redaction the END line may carry any label with that suffix
    (``BEGIN RSA PRIVATE KEY`` ... ``END PRIVATE KEY`` is still a key). Linear in ``len(text)``."""
    if "-----BEGIN " not in text:
        return text
    data = text.encode("utf-8", "surrogatepass")
    suffix = label_suffix.encode("ascii")
    ends = [offset for offset, label, after in _markers(data, b"END ") if label.endswith(suffix)]
    after_of = {offset: after for offset, label, after in _markers(data, b"END ") if label.endswith(suffix)}
    out, position, index = [], 0, 0
    for begin, label, body_start in _markers(data, b"BEGIN "):
        if begin < position or not label.endswith(suffix):
            continue
        while index < len(ends) and ends[index] < body_start:
            index += 1
        if index == len(ends):
            break
        out.append(data[position:begin])
        out.append(replacement.encode("utf-8"))
        position = after_of[ends[index]]
    if not out:
        return text
    out.append(data[position:])
    return b"".join(out).decode("utf-8", "surrogatepass")
