# Snippet 16 of lessons/dl.md: the block at line 680 (lines 681-698).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:609
import torch.nn as nn

# lessons/dl.md:681 (the block, unchanged)
import torch
import torch.nn.functional as F

x = torch.linspace(-5, 5, 100)

# Common activation functions
relu = F.relu(x)           # max(0, x)
sigmoid = torch.sigmoid(x)  # 1 / (1 + e^-x)
tanh = torch.tanh(x)        # (e^x - e^-x) / (e^x + e^-x)
leaky_relu = F.leaky_relu(x, 0.01)  # x if x > 0 else 0.01*x
gelu = F.gelu(x)            # Used in Transformers

# In a model
model = nn.Sequential(
    nn.Linear(10, 64),
    nn.GELU(),  # or nn.ReLU(), nn.LeakyReLU(), etc.
    nn.Linear(64, 10)
)
