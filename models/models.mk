# The model zoo and the trained models; included by the Makefile.
#
#   make models           models/zoo/<name>/ from models/zoo.py (a few seconds)
#   make models-trained   retrain models/trained/*.onnx (a few minutes in all)
#   make test-zoo         every zoo and trained model through bin/onyx vs PyTorch,
#                         and the streaming check of the stateful ones

PYTHON3 ?= /usr/bin/python3
ZOO_OUT ?= build/test-out

.PHONY: models models-trained test-zoo

models:
	$(PYTHON3) models/zoo.py models/zoo

models-trained:
	$(PYTHON3) models/train_overdrive.py models/trained
	$(PYTHON3) models/train_presets.py models/trained
	$(PYTHON3) models/train_sound_classes.py models/trained
	$(PYTHON3) models/train_gesture.py models/trained

test-zoo: cli models
	$(PYTHON3) tests/zoo/accuracy.py $(ONYX_BIN) $(ZOO_OUT)/zoo models/zoo models/trained
	$(PYTHON3) tests/zoo/streaming.py $(ONYX_BIN) $(ZOO_OUT)/zoo-stream models/zoo models/trained
