# Snippet 01 of lessons/dl.md: the block at line 44 (lines 45-63).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:45 (the block, unchanged)
import torch
import torch.nn as nn
import torch.optim as optim

# Create tensors
x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([4.0, 5.0, 6.0])

# Basic operations
z = x + y           # Element-wise addition
dot = torch.dot(x, y)  # Dot product

# Create a matrix
matrix = torch.randn(3, 4)  # Random 3x4 matrix
print(f"Matrix shape: {matrix.shape}")

# GPU support (if available)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
tensor_gpu = matrix.to(device)
