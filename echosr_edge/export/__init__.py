"""Export (torch, onnx): ONNX, INT8 quantisation, verification against FP32, the bundle writer."""
