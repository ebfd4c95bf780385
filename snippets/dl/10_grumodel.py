# Snippet 10 of lessons/dl.md: the block at line 393 (lines 394-417).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:295
import torch

# lessons/dl.md:296
import torch.nn as nn

# lessons/dl.md:394 (the block, unchanged)
class GRUModel(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, num_layers=2):
        super().__init__()
        
        self.gru = nn.GRU(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=0.2
        )
        
        self.fc = nn.Linear(hidden_size, output_size)
    
    def forward(self, x):
        output, hidden = self.gru(x)
        # Use last time step output
        return self.fc(output[:, -1, :])

# Time series prediction
gru = GRUModel(input_size=1, hidden_size=64, output_size=1)
time_series = torch.randn(32, 100, 1)  # 100 time steps
prediction = gru(time_series)
print(f"GRU prediction shape: {prediction.shape}")  # [32, 1]
