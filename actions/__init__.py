"""Rasa custom actions, served by rasa-sdk in the app environment (`madoguchi serve actions`)."""
