"""Generate the web app's notification sounds (short sine-tone chimes) as small WAV files.

The sounds ship with the app (issue 5: "Sounds ship with the app"); they are made here rather
than downloaded, so their origin and licence are plain. Run from anywhere:

    python static/sounds/make_sounds.py

Standard library only: 22.05 kHz, 16-bit mono PCM, a soft attack and an exponential decay so
the tones do not click.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
HERE = Path(__file__).resolve().parent

# Each sound: a list of (frequency in Hz, start in seconds, length in seconds, loudness 0-1).
SOUNDS: dict[str, list[tuple[float, float, float, float]]] = {
    # A mention or a direct message: two rising notes (E5, A5), a little more insistent.
    "mention": [(659.25, 0.0, 0.22, 0.55), (880.0, 0.12, 0.35, 0.5)],
    # Any other notification: one soft note (C6) with a quiet fifth above it.
    "message": [(1046.5, 0.0, 0.28, 0.4), (1567.98, 0.0, 0.2, 0.12)],
    # An incoming call (played on a loop): two quick rising pairs (G5, B5), then a silence up to
    # 2.2 s (the silent "note" only sets the length) so the loop rings like a phone.
    "ringtone": [
        (783.99, 0.0, 0.3, 0.5),
        (987.77, 0.15, 0.3, 0.45),
        (783.99, 0.5, 0.3, 0.5),
        (987.77, 0.65, 0.4, 0.45),
        (440.0, 0.0, 2.18, 0.0),
    ],
}


def render(notes: list[tuple[float, float, float, float]]) -> list[float]:
    length = max(start + duration for _, start, duration, _ in notes) + 0.02
    samples = [0.0] * int(length * RATE)
    for frequency, start, duration, loudness in notes:
        first = int(start * RATE)
        count = int(duration * RATE)
        attack = int(0.008 * RATE)
        for index in range(count):
            envelope = min(1.0, index / attack) * math.exp(-5.0 * index / count)
            # Fade the last 10 ms to exactly zero.
            envelope *= min(1.0, (count - index) / (0.01 * RATE))
            value = loudness * envelope * math.sin(2 * math.pi * frequency * index / RATE)
            samples[first + index] += value
    peak = max(1.0, max(abs(sample) for sample in samples))
    return [sample / peak for sample in samples]


def write(name: str, samples: list[float]) -> Path:
    path = HERE / f"{name}.wav"
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(RATE)
        output.writeframes(b"".join(struct.pack("<h", int(sample * 32_000)) for sample in samples))
    return path


def main() -> None:
    for name, notes in SOUNDS.items():
        path = write(name, render(notes))
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
