# Snippet 03 of lessons/dl.md: the block at line 92 (lines 93-111).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:71
import torch

# lessons/dl.md:72
import torch.nn as nn

# lessons/dl.md:93 (the block, unchanged)
class MLP(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, output_size)
        )
    
    def forward(self, x):
        return self.network(x)

# Example: Classification with 10 input features, 64 hidden units, 3 classes
model = MLP(input_size=10, hidden_size=64, output_size=3)
sample_input = torch.randn(1, 10)  # Batch size 1
output = model(sample_input)
print(f"Output shape: {output.shape}")  # [1, 3]
