package dev.hearth.server.tools;

/** A call the model made: its id, the function's name and its arguments as a JSON text (an object). */
public record ToolCall(String id, String name, String arguments) {
}
