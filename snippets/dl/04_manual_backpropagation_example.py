# Snippet 04 of lessons/dl.md: the block at line 127 (lines 128-153).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:128 (the block, unchanged)
import torch

# Simple network: y = w2 * relu(w1 * x + b1) + b2
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=False)
target = torch.tensor([1.0])

# Initialize weights with gradient tracking
w1 = torch.randn(3, 4, requires_grad=True)
b1 = torch.zeros(4, requires_grad=True)
w2 = torch.randn(4, 1, requires_grad=True)
b2 = torch.zeros(1, requires_grad=True)

# Forward pass
hidden = torch.relu(x @ w1 + b1)
output = hidden @ w2 + b2

# Compute loss (MSE)
loss = ((output - target) ** 2).mean()
print(f"Loss: {loss.item():.4f}")

# Backward pass - computes all gradients
loss.backward()

# Gradients are now available
print(f"w1 gradient shape: {w1.grad.shape}")
print(f"w2 gradient shape: {w2.grad.shape}")
