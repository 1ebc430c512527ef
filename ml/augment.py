"""Training augmentation as stateless functions of (seed, epoch, batch): a resumed run sees the same images.

Keras' random layers keep their generator state outside any checkpoint, so a run resumed mid-schedule
would draw other augmentations than the uninterrupted run; here every random number comes from
`tf.random.stateless_*` seeded by the run's seed, the epoch and the batch index.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Augmentation:
    """How far each random change may go; a horizontal flip only where it keeps the label (faces, not digits)."""

    flip: bool
    rotation_deg: float = 18.0
    shift: float = 0.1  # of the side, each way
    scale: tuple[float, float] = (0.87, 1.1)  # zoom factor of the content (>1: closer)
    contrast: float = 0.3
    brightness: float = 0.0  # of the 0..255 range, each way
    erasing: float = 0.0  # probability of blanking one random rectangle (random erasing, Zhong et al. 2017)


def for_recipe(flip: bool, recipe: str) -> Augmentation:
    """The augmentation a training recipe uses: 'basic' (mild, fine-tuning) or 'strong' (long schedules)."""
    if recipe == "basic":
        return Augmentation(flip=flip, rotation_deg=18.0 if flip else 14.4)
    if recipe == "strong":
        # Khaireddin & Chen 2021 (FER-2013, 73.3%): rescale and shift by up to 20%, rotate by up to 10 degrees,
        # flip, random erasing with probability 0.5; shifts kept at 15% as the face detector's crops are centred.
        return Augmentation(flip=flip, rotation_deg=10.0, shift=0.15, scale=(0.8, 1.2), contrast=0.4,
                            brightness=0.15, erasing=0.5)
    raise ValueError(f"augmentation recipe must be basic or strong, not {recipe!r}")


def affine_transforms(tf, n, size: int, aug: Augmentation, seed):
    """N projective transforms (output pixel -> input pixel, as ImageProjectiveTransformV3 takes them)."""
    def uniform(k, low, high):
        return tf.random.stateless_uniform([n], seed=seed + tf.constant([0, k], tf.int64) * 7919, minval=low,
                                           maxval=high)

    angle = uniform(1, -1.0, 1.0) * (aug.rotation_deg * math.pi / 180)
    zoom = tf.exp(uniform(2, math.log(aug.scale[0]), math.log(aug.scale[1])))
    tx, ty = uniform(3, -aug.shift, aug.shift) * size, uniform(4, -aug.shift, aug.shift) * size
    flip = tf.where(uniform(5, 0.0, 1.0) < 0.5, -1.0, 1.0) if aug.flip else tf.ones([n])
    centre = (size - 1) / 2
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    # input = M·(F·out + f − c − t) + c with M the inverse rotation-and-zoom and F the optional mirror.
    a0, a1, b0, b1 = cos * flip, sin, -sin * flip, cos
    ox = tf.where(flip < 0, float(size - 1), 0.0) - centre - tx
    oy = -centre - ty
    a2 = cos * ox + sin * oy + centre
    b2 = -sin * ox + cos * oy + centre
    zeros = tf.zeros([n])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def augment_batch(tf, images, aug: Augmentation, seed):
    """Augment an N×S×S×C float batch of 0..255 pixels with the random numbers of `seed` (two int64s)."""
    n, size = tf.shape(images)[0], images.shape[1]
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=affine_transforms(tf, n, size, aug, seed), output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST")

    def uniform(k, shape, low=0.0, high=1.0):
        return tf.random.stateless_uniform(shape, seed=seed + tf.constant([0, 100 + k], tf.int64) * 7919,
                                           minval=low, maxval=high)

    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    factor = uniform(1, [n, 1, 1, 1], 1 - aug.contrast, 1 + aug.contrast)
    shift = uniform(2, [n, 1, 1, 1], -aug.brightness, aug.brightness) * 255
    images = (images - mean) * factor + mean + shift
    if aug.erasing:
        # One rectangle of 2-25% of the image, aspect 0.3-3.3, filled with noise, in `erasing` of the images.
        area = uniform(3, [n], 0.02, 0.25) * size * size
        aspect = tf.exp(uniform(4, [n], math.log(0.3), math.log(3.3)))
        h = tf.minimum(tf.sqrt(area * aspect), size * 1.0)
        w = tf.minimum(tf.sqrt(area / aspect), size * 1.0)
        top, left = uniform(5, [n]) * (size - h), uniform(6, [n]) * (size - w)
        grid = tf.range(size, dtype=tf.float32)
        rows = (grid[None, :] >= top[:, None]) & (grid[None, :] < (top + h)[:, None])
        cols = (grid[None, :] >= left[:, None]) & (grid[None, :] < (left + w)[:, None])
        box = rows[:, :, None] & cols[:, None, :] & (uniform(7, [n]) < aug.erasing)[:, None, None]
        noise = uniform(8, tf.shape(images), 0.0, 255.0)
        images = tf.where(box[..., None], noise, images)
    return tf.clip_by_value(images, 0.0, 255.0)
