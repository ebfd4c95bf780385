# Snippet 11 of lessons/dl.md: the block at line 426 (lines 427-454).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:427 (the block, unchanged)
import torch
import torch.nn as nn
import torch.nn.functional as F

class Attention(nn.Module):
    """Simple additive attention mechanism."""
    
    def __init__(self, hidden_size):
        super().__init__()
        self.attention = nn.Linear(hidden_size, 1)
    
    def forward(self, encoder_outputs):
        # encoder_outputs: [batch, seq_len, hidden_size]
        
        # Compute attention scores
        scores = self.attention(encoder_outputs)  # [batch, seq_len, 1]
        scores = scores.squeeze(-1)  # [batch, seq_len]
        
        # Softmax to get attention weights
        weights = F.softmax(scores, dim=1)  # [batch, seq_len]
        
        # Weighted sum of encoder outputs
        context = torch.bmm(
            weights.unsqueeze(1),  # [batch, 1, seq_len]
            encoder_outputs         # [batch, seq_len, hidden_size]
        ).squeeze(1)  # [batch, hidden_size]
        
        return context, weights
