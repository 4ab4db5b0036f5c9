"""Image bumps shared by CI and people: set an environment's image by digest, or promote one environment's image to
another; both validate the reference, write the environment's image file and re-render ``manifests/``."""

from __future__ import annotations

from pathlib import Path

from manifests_py.environments import (
    ENVIRONMENT_NAMES,
    ENVIRONMENTS_DIR,
    InvalidEnvironmentError,
    read_image,
    validate_image,
    write_image,
)
from manifests_py.names import IMAGE_REPOSITORY
from manifests_py.render import DEFAULT_OUT, render, write_tree


def _check_environment(name: str) -> None:
    if name not in ENVIRONMENT_NAMES:
        raise InvalidEnvironmentError(f"unknown environment {name!r}; expected one of {', '.join(ENVIRONMENT_NAMES)}")


def set_image(environment: str, image: str, *, directory: Path = ENVIRONMENTS_DIR, out: Path = DEFAULT_OUT) -> None:
    """Point ``environment`` at ``image`` (``ghcr.io/…@sha256:<64 hex>``) and re-render; nothing changes on error."""
    _check_environment(environment)
    validate_image(image)
    if not image.startswith(f"{IMAGE_REPOSITORY}@"):
        raise InvalidEnvironmentError(
            f"{image!r} is not an image of {IMAGE_REPOSITORY} (expected {IMAGE_REPOSITORY}@sha256:…)"
        )
    previous = read_image(environment, directory)
    write_image(environment, image, directory)  # validates the digest before writing
    try:
        write_tree(render(directory), out)
    except Exception:
        write_image(environment, previous, directory)
        raise


def promote(source: str, target: str, *, directory: Path = ENVIRONMENTS_DIR, out: Path = DEFAULT_OUT) -> str:
    """Give ``target`` exactly the image ``source`` runs; returns it."""
    _check_environment(source)
    image = read_image(source, directory)
    set_image(target, image, directory=directory, out=out)
    return image
