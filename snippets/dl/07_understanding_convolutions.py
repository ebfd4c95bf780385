# Snippet 07 of lessons/dl.md: the block at line 267 (lines 268-285).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:268 (the block, unchanged)
# Visualize what a convolution does
import torch
import torch.nn as nn

# Create a simple edge detection filter
edge_filter = torch.tensor([
    [-1, -1, -1],
    [-1,  8, -1],
    [-1, -1, -1]
], dtype=torch.float32).view(1, 1, 3, 3)

# Apply to a sample image
conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
conv.weight.data = edge_filter

sample = torch.randn(1, 1, 8, 8)
filtered = conv(sample)
print(f"Input shape: {sample.shape}, Output shape: {filtered.shape}")
