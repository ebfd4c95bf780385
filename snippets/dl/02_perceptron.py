# Snippet 02 of lessons/dl.md: the block at line 70 (lines 71-87).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:71 (the block, unchanged)
import torch
import torch.nn as nn

class Perceptron(nn.Module):
    def __init__(self, input_size):
        super().__init__()
        self.linear = nn.Linear(input_size, 1)
        self.activation = nn.Sigmoid()
    
    def forward(self, x):
        return self.activation(self.linear(x))

# Create and use perceptron
perceptron = Perceptron(input_size=3)
input_data = torch.tensor([1.0, 2.0, 3.0])
output = perceptron(input_data)
print(f"Output: {output.item():.4f}")
