# Snippet 17 of lessons/dl.md: the block at line 703 (lines 704-719).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:609
import torch.nn as nn

# lessons/dl.md:681
import torch

# lessons/dl.md:704 (the block, unchanged)
# Classification
ce_loss = nn.CrossEntropyLoss()      # Multi-class
bce_loss = nn.BCEWithLogitsLoss()    # Binary

# Regression
mse_loss = nn.MSELoss()              # Mean Squared Error
mae_loss = nn.L1Loss()               # Mean Absolute Error
huber_loss = nn.SmoothL1Loss()       # Robust to outliers

# Sequence models
ctc_loss = nn.CTCLoss()              # Speech recognition

# Example usage
predictions = torch.randn(32, 10)    # 32 samples, 10 classes
targets = torch.randint(0, 10, (32,))
loss = ce_loss(predictions, targets)
