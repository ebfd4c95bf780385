# Snippet 06 of lessons/dl.md: the block at line 205 (lines 206-262).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:206 (the block, unchanged)
import torch
import torch.nn as nn
import torch.nn.functional as F

class CNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        
        # Convolutional layers
        self.conv1 = nn.Conv2d(
            in_channels=1,    # Grayscale image
            out_channels=32,  # 32 filters
            kernel_size=3,    # 3x3 filter
            padding=1         # Same padding
        )
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, kernel_size=3, padding=1)
        
        # Pooling layer
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        
        # Batch normalization
        self.bn1 = nn.BatchNorm2d(32)
        self.bn2 = nn.BatchNorm2d(64)
        self.bn3 = nn.BatchNorm2d(128)
        
        # Fully connected layers
        self.fc1 = nn.Linear(128 * 3 * 3, 256)  # After 3 pooling ops: 28->14->7->3
        self.fc2 = nn.Linear(256, num_classes)
        
        # Dropout for regularization
        self.dropout = nn.Dropout(0.5)
    
    def forward(self, x):
        # Conv block 1: [B, 1, 28, 28] -> [B, 32, 14, 14]
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        
        # Conv block 2: [B, 32, 14, 14] -> [B, 64, 7, 7]
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        
        # Conv block 3: [B, 64, 7, 7] -> [B, 128, 3, 3]
        x = self.pool(F.relu(self.bn3(self.conv3(x))))
        
        # Flatten: [B, 128, 3, 3] -> [B, 128*3*3]
        x = x.view(x.size(0), -1)
        
        # Fully connected layers
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.fc2(x)
        
        return x

# Create model and test with random image
cnn = CNN(num_classes=10)
sample_image = torch.randn(1, 1, 28, 28)  # Batch=1, Channels=1, H=28, W=28
output = cnn(sample_image)
print(f"CNN output shape: {output.shape}")  # [1, 10]
