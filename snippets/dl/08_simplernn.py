# Snippet 08 of lessons/dl.md: the block at line 294 (lines 295-336).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:295 (the block, unchanged)
import torch
import torch.nn as nn

class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        
        # RNN layer
        self.rnn = nn.RNN(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=1,
            batch_first=True  # Input shape: [batch, seq_len, features]
        )
        
        # Output layer
        self.fc = nn.Linear(hidden_size, output_size)
    
    def forward(self, x, hidden=None):
        # x shape: [batch, seq_len, input_size]
        
        # Initialize hidden state if not provided
        if hidden is None:
            hidden = torch.zeros(1, x.size(0), self.hidden_size)
        
        # RNN forward pass
        output, hidden = self.rnn(x, hidden)
        # output shape: [batch, seq_len, hidden_size]
        # hidden shape: [num_layers, batch, hidden_size]
        
        # Take the last output for classification
        last_output = output[:, -1, :]  # [batch, hidden_size]
        prediction = self.fc(last_output)
        
        return prediction, hidden

# Example: Sequence classification
rnn = SimpleRNN(input_size=10, hidden_size=64, output_size=5)
sequence = torch.randn(32, 20, 10)  # Batch=32, SeqLen=20, Features=10
output, _ = rnn(sequence)
print(f"RNN output shape: {output.shape}")  # [32, 5]
