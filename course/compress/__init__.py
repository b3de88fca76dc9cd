"""Smaller and faster models after training, each step measured (size, CPU latency, accuracy).

    convert.to_torch(model, x)        a course.keras Sequential as its NCHW PyTorch twin
    prune.magnitude_prune(model, p)   zero the fraction p of smallest weights (torch.nn.utils.prune)
    quantize.quantize_dynamic(twin)   int8 Linear layers (torch.ao), or quantize_weights_int8 (from scratch)
    distill.distill(student, x, y, teacher_logits=...)   a small student taught by a big teacher
    measure.measure(name, model, x_test, y_test)         one row of the results table
"""
from course.compress.convert import to_torch
from course.compress.distill import distill, distillation_loss, logits_of
from course.compress.measure import Measurement, accuracy, file_size, latency, measure, table
from course.compress.prune import KeepPruned, apply_masks, magnitude_prune, prunable, sparsity
from course.compress.quantize import (Int8Linear, dequantize, quantize_dynamic, quantize_tensor,
                                      quantize_weights_int8)

__all__ = ["to_torch", "magnitude_prune", "prunable", "sparsity", "apply_masks", "KeepPruned", "quantize_tensor",
           "dequantize", "Int8Linear", "quantize_weights_int8", "quantize_dynamic", "distillation_loss", "logits_of",
           "distill", "Measurement", "file_size", "latency", "accuracy", "measure", "table"]
