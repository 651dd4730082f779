"""The shared kernel-free animation helper: reproducible and offline."""

import matplotlib

matplotlib.use("Agg")

from matplotlib import animation  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.widgets import static_animation  # noqa: E402


def make_anim():
    fig = Figure(figsize=(2, 1), dpi=30)
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])
    return animation.FuncAnimation(fig, lambda k: line.set_ydata([0, k]), frames=3)


def test_static_animation_is_reproducible_and_requests_no_other_host():
    first, second = static_animation(make_anim(), "demo"), static_animation(make_anim(), "demo")
    assert first == second
    assert "demo0" in first and "<img" in first
    assert "font-awesome" not in first and "://" not in first.replace("data:image", "")


def test_static_animation_describes_its_frames_and_stores_them_with_a_palette():
    import base64
    import re

    from PIL import Image

    html = static_animation(make_anim(), "demo", alt="a dot moving to the right")
    assert 'alt="Animation, ' in html and "a dot moving to the right" in html
    assert 'aria-label="animation frame"' in html
    frame = re.search(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", html).group(1)
    png = base64.b64decode(frame.replace("\\", "").replace("\n", ""))
    import io

    assert Image.open(io.BytesIO(png)).mode == "P"  # palette: several times lighter
    full = static_animation(make_anim(), "demo", alt="x", colors=None)
    assert len(html) < len(full)
