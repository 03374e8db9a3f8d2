"""Model architectures (torch): SRResNet, MSRResNet, the SRGAN discriminator and losses, ResNet-18,
checkpoint I/O and import of public pretrained weights."""
