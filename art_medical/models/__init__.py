"""Keras models of the studies, their training recipes, saving with model cards, and ART wrapping.

Every model takes raw pixels on the 0-255 scale; grayscale-to-RGB conversion and ImageNet
preprocessing happen inside the model (importing this package registers the custom layers needed to
load saved models).
"""
from art_medical.models.art_estimator import CompiledKerasClassifier, infer_output_kind, to_art
from art_medical.models.complexity import count_macs
from art_medical.models.covidnet import COVIDNet
from art_medical.models.layers import GrayscaleToRGB, ImageNetPreprocessing
from art_medical.models.pooling import count_max_pooling, replace_max_pooling
from art_medical.models.recipes import (
    RECIPES,
    TrainingRecipe,
    get_recipe,
    study001_learning_rate,
    study002_learning_rate,
)
from art_medical.models.registry import MODELS, available_models, build_model
from art_medical.models.resnet import ResNet, ResNet18, ResNet50
from art_medical.models.saving import ModelCard, load_model, load_model_card, save_model
from art_medical.models.scratch import ScratchApplication
from art_medical.models.small_cnn import SmallCNN
from art_medical.models.tf1_checkpoint import COVIDNET_CXR_TENSORS, load_tf1_checkpoint
from art_medical.models.training import train
from art_medical.models.transfer import (
    InceptionV3Dense1024,
    PoolingStudyClassifier,
    TransferClassifier,
    VGG16Dense64,
)
from art_medical.models.wide_resnet import WideResNet

__all__ = [
    "COVIDNET_CXR_TENSORS",
    "COVIDNet",
    "CompiledKerasClassifier",
    "GrayscaleToRGB",
    "ImageNetPreprocessing",
    "InceptionV3Dense1024",
    "MODELS",
    "ModelCard",
    "PoolingStudyClassifier",
    "RECIPES",
    "ResNet",
    "ResNet18",
    "ResNet50",
    "ScratchApplication",
    "SmallCNN",
    "TrainingRecipe",
    "TransferClassifier",
    "VGG16Dense64",
    "WideResNet",
    "available_models",
    "build_model",
    "count_macs",
    "count_max_pooling",
    "get_recipe",
    "infer_output_kind",
    "load_model",
    "load_model_card",
    "load_tf1_checkpoint",
    "replace_max_pooling",
    "save_model",
    "study001_learning_rate",
    "study002_learning_rate",
    "to_art",
    "train",
]
