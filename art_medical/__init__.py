"""art_medical: adversarial robustness testing of medical-image classifiers on top of IBM ART.

Images are raw pixels on the 0-255 scale (float32) at every boundary, labels are integers, and every
random choice takes a seed.
"""
__version__ = "0.1.0"
