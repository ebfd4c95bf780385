# Snippet 14 of lessons/dl.md: the block at line 566 (lines 567-600).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:427
import torch

# lessons/dl.md:428
import torch.nn as nn

# lessons/dl.md:429
import torch.nn.functional as F

# lessons/dl.md:431
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

# lessons/dl.md:567 (the block, unchanged)
class AttentionRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes):
        super().__init__()
        
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        
        self.lstm = nn.LSTM(
            embed_dim, hidden_size,
            batch_first=True, bidirectional=True
        )
        
        self.attention = Attention(hidden_size * 2)
        self.fc = nn.Linear(hidden_size * 2, num_classes)
    
    def forward(self, x):
        # Embed
        embedded = self.embedding(x)
        
        # LSTM encoding
        lstm_out, _ = self.lstm(embedded)
        
        # Apply attention to get context vector
        context, attention_weights = self.attention(lstm_out)
        
        # Classify
        output = self.fc(context)
        
        return output, attention_weights

# Example
model = AttentionRNN(vocab_size=5000, embed_dim=128, hidden_size=128, num_classes=2)
text = torch.randint(0, 5000, (8, 50))
output, attn_weights = model(text)
print(f"Output: {output.shape}, Attention: {attn_weights.shape}")
