"""Model architectures (torch): SRResNet, ResNet-18 classifier, checkpoint I/O."""
